import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { JetStreamContext, runEffect, type EffectResult } from '@troupe/bus';
import { withWorkflowBudget, type WorkflowCallBudget } from '@troupe/agent-kit';
import { AgentTaskRequested, INCIDENT_AGENTS, IncidentTaskInput, agentTaskSubject, parseOrThrow, taskBudgetWorkflowId, type Envelope } from '@troupe/contracts';
import type { JetStreamClient } from 'nats';
import { JETSTREAM, WORKFLOW_BUDGET } from '../tasks/agent-tasks.controller';
import { INCIDENT_RESULT_TYPES, type IncidentAgents } from './incident-agents';

/** Injection token of the incident agents. */
export const INCIDENT_AGENTS_TOKEN = Symbol('INCIDENT_AGENTS');

/**
 * Translates incident task messages into calls on the incident agents, and their answers into workflow
 * events. The diagnoser's model calls run within the workflow's budget and are counted there
 * ({@link withWorkflowBudget}).
 */
@Controller()
export class IncidentTasksController {
  constructor(
    @Inject(INCIDENT_AGENTS_TOKEN) private readonly agents: IncidentAgents,
    @Inject(JETSTREAM) private readonly js: JetStreamClient,
    @Inject(WORKFLOW_BUDGET) private readonly budget: WorkflowCallBudget | null,
  ) {}

  @EventPattern(agentTaskSubject(INCIDENT_AGENTS.enricher.agent))
  enrich(@Payload() envelope: Envelope, @Ctx() context: JetStreamContext): Promise<string> {
    return this.handle('enricher', envelope, context, (input) => this.agents.enricher.enrich(input));
  }

  @EventPattern(agentTaskSubject(INCIDENT_AGENTS.diagnoser.agent))
  diagnose(@Payload() envelope: Envelope, @Ctx() context: JetStreamContext): Promise<string> {
    return this.handle('diagnoser', envelope, context, async (input, task) => {
      const call = { workflowId: taskBudgetWorkflowId(envelope, task), callId: task.effectId, caller: `agents/${INCIDENT_AGENTS.diagnoser.agent}` };
      const { modelUsage: _usage, ...diagnosis } = await withWorkflowBudget(this.budget, call, (options) => this.agents.diagnoser.diagnose(input, options), (result) => result.modelUsage);
      return diagnosis;
    });
  }

  @EventPattern(agentTaskSubject(INCIDENT_AGENTS.pager.agent))
  page(@Payload() envelope: Envelope, @Ctx() context: JetStreamContext): Promise<string> {
    return this.handle('pager', envelope, context, (input) => this.agents.pager.page(input));
  }

  @EventPattern(agentTaskSubject(INCIDENT_AGENTS.safeAction.agent))
  applySafeAction(@Payload() envelope: Envelope, @Ctx() context: JetStreamContext): Promise<string> {
    return this.handle('safeAction', envelope, context, (input) => this.agents.safeAction.apply(input));
  }

  @EventPattern(agentTaskSubject(INCIDENT_AGENTS.remediator.agent))
  executeFix(@Payload() envelope: Envelope, @Ctx() context: JetStreamContext): Promise<string> {
    return this.handle('remediator', envelope, context, (input) => this.agents.remediator.execute(input));
  }

  @EventPattern(agentTaskSubject(INCIDENT_AGENTS.escalator.agent))
  escalate(@Payload() envelope: Envelope, @Ctx() context: JetStreamContext): Promise<string> {
    return this.handle('escalator', envelope, context, (input) => this.agents.escalator.escalate(input));
  }

  @EventPattern(agentTaskSubject(INCIDENT_AGENTS.reporter.agent))
  report(@Payload() envelope: Envelope, @Ctx() context: JetStreamContext): Promise<string> {
    return this.handle('reporter', envelope, context, (input) => this.agents.reporter.report(input));
  }

  /**
   * Validates the task and its input at the edge (a failure throws, and the transport dead-letters the
   * message), runs the agent and publishes its answer into the workflow with id `<effectId>:result`.
   */
  private handle(
    agent: keyof IncidentAgents,
    envelope: Envelope,
    context: JetStreamContext,
    work: (input: IncidentTaskInput, task: AgentTaskRequested) => Promise<unknown>,
  ): Promise<string> {
    const task = parseOrThrow(AgentTaskRequested, envelope.payload, `${envelope.type} payload`);
    const input = parseOrThrow(IncidentTaskInput, task.input, `${task.agent} task input`);
    return runEffect(this.js, { envelope, context, effectId: task.effectId, kind: 'agent.task', source: `agents/${INCIDENT_AGENTS[agent].agent}` }, async (): Promise<EffectResult> => ({
      type: INCIDENT_RESULT_TYPES[agent],
      payload: await work(input, task),
    }));
  }
}
