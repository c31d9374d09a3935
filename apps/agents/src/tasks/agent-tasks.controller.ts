import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { handleEmailTask, withWorkflowBudget, type AgentHost, type ModelCallOptions, type WorkflowCallBudget } from '@troupe/agent-kit';
import { JetStreamContext, runEffect } from '@troupe/bus';
import {
  AgentTaskRequested,
  EMAIL_CLASSIFIED,
  EMAIL_QUARANTINED,
  EMAIL_SUMMARISED,
  QuarantineTaskInput,
  REPLY_DRAFTED,
  TRIAGE_AGENTS,
  agentTaskSubject,
  parseOrThrow,
  taskBudgetWorkflowId,
  type Envelope,
  type ModelUsage,
} from '@troupe/contracts';
import type { JetStreamClient } from 'nats';
import type { SpamClassifier } from '../classifier/spam-classifier';
import type { ReplyDrafter } from '../drafter/reply-drafter';
import type { SpamQuarantiner } from '../quarantine/spam-quarantiner';
import { AGENT_HOST } from '../runs/agent-runs.controller';
import type { EmailSummariser } from '../summariser/email-summariser';

/** Injection token of the agents this process hosts. */
export const TRIAGE_SPECIALISTS = Symbol('TRIAGE_SPECIALISTS');
/** Injection token of the JetStream client. */
export const JETSTREAM = Symbol('JETSTREAM');
/** Injection token of the per-workflow budget of one-step model calls ({@link WorkflowCallBudget}; null when no model is configured). */
export const WORKFLOW_BUDGET = Symbol('WORKFLOW_BUDGET');

/** The specialists of inbox triage. */
export interface TriageSpecialists {
  classifier: SpamClassifier;
  drafter: ReplyDrafter;
  summariser: EmailSummariser;
  quarantiner: SpamQuarantiner;
}

/**
 * Translates agent task messages into calls on the specialists, and their answers into workflow events.
 * The model classifier, and the model drafter and summariser when they are not ReAct runs, run within
 * the workflow's budget ({@link withWorkflowBudget}: the task's budget workflow, their offline stand-in
 * without the model once it is spent) and their tokens and cost are added there, once per task effect id.
 */
@Controller()
export class AgentTasksController {
  constructor(
    @Inject(TRIAGE_SPECIALISTS) private readonly specialists: TriageSpecialists,
    @Inject(JETSTREAM) private readonly js: JetStreamClient,
    @Inject(AGENT_HOST) private readonly runs: AgentHost | null,
    @Inject(WORKFLOW_BUDGET) private readonly budget: WorkflowCallBudget | null,
  ) {}

  @EventPattern(agentTaskSubject(TRIAGE_AGENTS.classifier.agent))
  classify(@Payload() envelope: Envelope, @Ctx() context: JetStreamContext): Promise<string> {
    return handleEmailTask(this.js, envelope, context, `agents/${TRIAGE_AGENTS.classifier.agent}`, async (email, task) => ({
      type: EMAIL_CLASSIFIED,
      payload: await this.withinBudget(envelope, task, TRIAGE_AGENTS.classifier.agent, (options) => this.specialists.classifier.classify(email, options)),
    }));
  }

  @EventPattern(agentTaskSubject(TRIAGE_AGENTS.drafter.agent))
  draft(@Payload() envelope: Envelope, @Ctx() context: JetStreamContext): Promise<string> {
    // With agent runs on, the task starts a react-loop run; its result reaches the workflow later.
    if (this.runs !== null) return this.runs.startRun(TRIAGE_AGENTS.drafter.agent, envelope);
    return handleEmailTask(this.js, envelope, context, `agents/${TRIAGE_AGENTS.drafter.agent}`, async (email, task) => ({
      type: REPLY_DRAFTED,
      payload: await this.withinBudget(envelope, task, TRIAGE_AGENTS.drafter.agent, (options) => this.specialists.drafter.draft(email, options)),
    }));
  }

  @EventPattern(agentTaskSubject(TRIAGE_AGENTS.summariser.agent))
  summarise(@Payload() envelope: Envelope, @Ctx() context: JetStreamContext): Promise<string> {
    if (this.runs !== null) return this.runs.startRun(TRIAGE_AGENTS.summariser.agent, envelope);
    return handleEmailTask(this.js, envelope, context, `agents/${TRIAGE_AGENTS.summariser.agent}`, async (email, task) => ({
      type: EMAIL_SUMMARISED,
      payload: await this.withinBudget(envelope, task, TRIAGE_AGENTS.summariser.agent, (options) => this.specialists.summariser.summarise(email, options)),
    }));
  }

  @EventPattern(agentTaskSubject(TRIAGE_AGENTS.quarantine.agent))
  quarantine(@Payload() envelope: Envelope, @Ctx() context: JetStreamContext): Promise<string> {
    if (this.runs !== null) return this.runs.startRun(TRIAGE_AGENTS.quarantine.agent, envelope);
    const task = parseOrThrow(AgentTaskRequested, envelope.payload, `${envelope.type} payload`);
    const input = parseOrThrow(QuarantineTaskInput, task.input, `${task.agent} task input`);
    const source = `agents/${TRIAGE_AGENTS.quarantine.agent}`;
    return runEffect(this.js, { envelope, context, effectId: task.effectId, kind: 'agent.task', source }, async () => ({
      type: EMAIL_QUARANTINED,
      payload: await this.specialists.quarantiner.quarantine(input),
    }));
  }

  /**
   * Runs `agent`'s call for `task` within its workflow's budget ({@link withWorkflowBudget}, once per
   * effect id) and answers the result without its usage (not part of the event's payload).
   */
  private async withinBudget<T extends { usage?: ModelUsage }>(
    envelope: Envelope,
    task: AgentTaskRequested,
    agent: string,
    work: (options: ModelCallOptions) => Promise<T>,
  ): Promise<Omit<T, 'usage'>> {
    const call = { workflowId: taskBudgetWorkflowId(envelope, task), callId: task.effectId, caller: `agents/${agent}` };
    const { usage: _usage, ...result } = await withWorkflowBudget(this.budget, call, work, (answer) => answer.usage);
    return result;
  }
}
