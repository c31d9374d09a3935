import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { withWorkflowBudget, type ModelCallOptions, type WorkflowCallBudget } from '@troupe/agent-kit';
import { JetStreamContext, runEffect, type EffectResult } from '@troupe/bus';
import {
  AgentTaskRequested,
  CLAIM_AGENTS,
  CLAIM_AUDITED,
  CLAIM_CLASSIFIED,
  CLAIM_EXTRACTED,
  CLAIM_LETTER_GENERATED,
  CLAIM_NOTIFIED,
  CLAIM_REVIEWED,
  ClaimAssessInput,
  ClaimAuditInput,
  ClaimExtractInput,
  ClaimLetterInput,
  ClaimNotifyInput,
  agentTaskSubject,
  parseOrThrow,
  taskBudgetWorkflowId,
  type ClaimAudited,
  type ClaimNotified,
  type Envelope,
} from '@troupe/contracts';
import type { JetStreamClient } from 'nats';
import type { z } from 'zod';
import { JETSTREAM, WORKFLOW_BUDGET } from '../tasks/agent-tasks.controller';
import type { ClaimAgents, Metered } from './claim-agents';
import type { ClaimLedgers } from './claim-ledgers';

/** Injection token of the claim agents. */
export const CLAIM_AGENT_SET = Symbol('CLAIM_AGENT_SET');
/** Injection token of the claim ledgers (notifications, audit records). */
export const CLAIM_LEDGERS = Symbol('CLAIM_LEDGERS');
/** Injection token of the clock the ledgers stamp records with. */
export const CLAIM_CLOCK = Symbol('CLAIM_CLOCK');

/**
 * Translates claim-processing task messages into calls on the claim agents and ledgers, and their
 * answers into workflow events. The task and its input are parsed at the edge (a failure is dead-lettered
 * by the transport). Notify and audit write at most one record per effect id (the idempotency key), so a
 * redelivered task answers with the first record instead of notifying or auditing twice. The four
 * reasoning agents' model calls run within the workflow's budget and are counted there
 * ({@link withWorkflowBudget}); a task of a declared workflow carries its budget (the stricter of it and
 * `TROUPE_WORKFLOW_MAX_*` holds) and its state's model settings (`limits`), which the model call uses.
 */
@Controller()
export class ClaimTasksController {
  constructor(
    @Inject(CLAIM_AGENT_SET) private readonly agents: ClaimAgents,
    @Inject(CLAIM_LEDGERS) private readonly ledgers: ClaimLedgers,
    @Inject(JETSTREAM) private readonly js: JetStreamClient,
    @Inject(CLAIM_CLOCK) private readonly now: () => Date,
    @Inject(WORKFLOW_BUDGET) private readonly budget: WorkflowCallBudget | null,
  ) {}

  @EventPattern(agentTaskSubject(CLAIM_AGENTS.extractor.agent))
  extract(@Payload() envelope: Envelope, @Ctx() context: JetStreamContext): Promise<string> {
    return this.run(envelope, context, ClaimExtractInput, async ({ claim }, task) => ({
      type: CLAIM_EXTRACTED,
      payload: await this.metered(envelope, task, (options) => this.agents.extractor.extract(claim, options)),
    }));
  }

  @EventPattern(agentTaskSubject(CLAIM_AGENTS.assessor.agent))
  classify(@Payload() envelope: Envelope, @Ctx() context: JetStreamContext): Promise<string> {
    return this.run(envelope, context, ClaimAssessInput, async ({ details }, task) => ({
      type: CLAIM_CLASSIFIED,
      payload: await this.metered(envelope, task, (options) => this.agents.assessor.classify(details, options)),
    }));
  }

  @EventPattern(agentTaskSubject(CLAIM_AGENTS.seniorReviewer.agent))
  review(@Payload() envelope: Envelope, @Ctx() context: JetStreamContext): Promise<string> {
    return this.run(envelope, context, ClaimAssessInput, async ({ details }, task) => ({
      type: CLAIM_REVIEWED,
      payload: await this.metered(envelope, task, (options) => this.agents.seniorReviewer.review(details, options)),
    }));
  }

  @EventPattern(agentTaskSubject(CLAIM_AGENTS.letterWriter.agent))
  letter(@Payload() envelope: Envelope, @Ctx() context: JetStreamContext): Promise<string> {
    return this.run(envelope, context, ClaimLetterInput, async ({ claim, details, decision }, task) => ({
      type: CLAIM_LETTER_GENERATED,
      payload: await this.metered(envelope, task, (options) => this.agents.letterWriter.write(claim, details, decision, options)),
    }));
  }

  @EventPattern(agentTaskSubject(CLAIM_AGENTS.notifier.agent))
  notify(@Payload() envelope: Envelope, @Ctx() context: JetStreamContext): Promise<string> {
    return this.run(envelope, context, ClaimNotifyInput, async (input, { effectId }) => {
      const { record, firstDelivery } = await this.ledgers.notifications.recordOnce({
        idempotencyKey: effectId,
        workflowId: envelope.workflowId,
        ...input,
        notifiedAt: this.now().toISOString(),
      });
      const notified: ClaimNotified = { idempotencyKey: record.idempotencyKey, notifiedAt: record.notifiedAt, firstDelivery };
      return { type: CLAIM_NOTIFIED, payload: notified };
    });
  }

  @EventPattern(agentTaskSubject(CLAIM_AGENTS.auditor.agent))
  audit(@Payload() envelope: Envelope, @Ctx() context: JetStreamContext): Promise<string> {
    return this.run(envelope, context, ClaimAuditInput, async (input, { effectId }) => {
      const { record, firstDelivery } = await this.ledgers.auditRecords.recordOnce({
        idempotencyKey: effectId,
        workflowId: envelope.workflowId,
        claimId: input.claimId,
        record: input,
        recordedAt: this.now().toISOString(),
      });
      const audited: ClaimAudited = { idempotencyKey: record.idempotencyKey, recordedAt: record.recordedAt, firstDelivery };
      return { type: CLAIM_AUDITED, payload: audited };
    });
  }

  private run<T>(
    envelope: Envelope,
    context: JetStreamContext,
    inputSchema: z.ZodType<T>,
    work: (input: T, task: AgentTaskRequested) => Promise<EffectResult>,
  ): Promise<'completed' | 'failed'> {
    const task = parseOrThrow(AgentTaskRequested, envelope.payload, `${envelope.type} payload`);
    const input = parseOrThrow(inputSchema, task.input, `${task.agent} task input`);
    return runEffect(this.js, { envelope, context, effectId: task.effectId, kind: 'agent.task', source: `agents/${task.agent}` }, () => work(input, task));
  }

  /**
   * Runs one reasoning agent within the task's budget workflow (held to the stricter of the environment's
   * limits and the task's declared `limits.budget`), its model call with the task's `limits.model`
   * settings, and returns its answer without the chain's usage.
   */
  private async metered<T extends object>(envelope: Envelope, task: AgentTaskRequested, work: (options: ModelCallOptions) => Promise<Metered<T>>): Promise<Omit<Metered<T>, 'modelUsage'>> {
    const { budget: declaredBudget, model } = task.limits ?? {};
    const call = { workflowId: taskBudgetWorkflowId(envelope, task), callId: task.effectId, caller: `agents/${task.agent}`, declaredBudget };
    const withSettings = (options: ModelCallOptions) => work(model === undefined ? options : { ...options, model });
    const { modelUsage: _usage, ...payload } = await withWorkflowBudget(this.budget, call, withSettings, (result) => result.modelUsage);
    return payload;
  }
}
