import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
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
  type ClaimAudited,
  type ClaimNotified,
  type Envelope,
} from '@troupe/contracts';
import type { JetStreamClient } from 'nats';
import type { z } from 'zod';
import { JETSTREAM } from '../tasks/agent-tasks.controller';
import type { ClaimAgents } from './claim-agents';
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
 * redelivered task answers with the first record instead of notifying or auditing twice.
 */
@Controller()
export class ClaimTasksController {
  constructor(
    @Inject(CLAIM_AGENT_SET) private readonly agents: ClaimAgents,
    @Inject(CLAIM_LEDGERS) private readonly ledgers: ClaimLedgers,
    @Inject(JETSTREAM) private readonly js: JetStreamClient,
    @Inject(CLAIM_CLOCK) private readonly now: () => Date,
  ) {}

  @EventPattern(agentTaskSubject(CLAIM_AGENTS.extractor.agent))
  extract(@Payload() envelope: Envelope, @Ctx() context: JetStreamContext): Promise<string> {
    return this.run(envelope, context, ClaimExtractInput, async ({ claim }) => ({ type: CLAIM_EXTRACTED, payload: await this.agents.extractor.extract(claim) }));
  }

  @EventPattern(agentTaskSubject(CLAIM_AGENTS.assessor.agent))
  classify(@Payload() envelope: Envelope, @Ctx() context: JetStreamContext): Promise<string> {
    return this.run(envelope, context, ClaimAssessInput, async ({ details }) => ({ type: CLAIM_CLASSIFIED, payload: await this.agents.assessor.classify(details) }));
  }

  @EventPattern(agentTaskSubject(CLAIM_AGENTS.seniorReviewer.agent))
  review(@Payload() envelope: Envelope, @Ctx() context: JetStreamContext): Promise<string> {
    return this.run(envelope, context, ClaimAssessInput, async ({ details }) => ({ type: CLAIM_REVIEWED, payload: await this.agents.seniorReviewer.review(details) }));
  }

  @EventPattern(agentTaskSubject(CLAIM_AGENTS.letterWriter.agent))
  letter(@Payload() envelope: Envelope, @Ctx() context: JetStreamContext): Promise<string> {
    return this.run(envelope, context, ClaimLetterInput, async ({ claim, details, decision }) => ({
      type: CLAIM_LETTER_GENERATED,
      payload: await this.agents.letterWriter.write(claim, details, decision),
    }));
  }

  @EventPattern(agentTaskSubject(CLAIM_AGENTS.notifier.agent))
  notify(@Payload() envelope: Envelope, @Ctx() context: JetStreamContext): Promise<string> {
    return this.run(envelope, context, ClaimNotifyInput, async (input, effectId) => {
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
    return this.run(envelope, context, ClaimAuditInput, async (input, effectId) => {
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
    work: (input: T, effectId: string) => Promise<EffectResult>,
  ): Promise<'completed' | 'failed'> {
    const task = parseOrThrow(AgentTaskRequested, envelope.payload, `${envelope.type} payload`);
    const input = parseOrThrow(inputSchema, task.input, `${task.agent} task input`);
    return runEffect(this.js, { envelope, context, effectId: task.effectId, kind: 'agent.task', source: `agents/${task.agent}` }, () => work(input, task.effectId));
  }
}
