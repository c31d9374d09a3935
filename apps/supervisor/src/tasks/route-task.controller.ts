import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { JetStreamContext, runEffect } from '@troupe/bus';
import {
  AgentTaskRequested,
  EmailTaskInput,
  FAN_OUT_TASK,
  ROUTE_DECIDED,
  ROUTE_DECIDE_TASK,
  RouteDecideInput,
  SchemaValidationError,
  TRIAGE_AGENTS,
  agentTaskSubject,
  parseOrThrow,
  type Envelope,
  type RouteDecided,
} from '@troupe/contracts';
import type { JetStreamClient } from 'nats';
import { recordModelCallUsage, type WorkflowUsageLedger } from '@troupe/agent-kit';
import type { TriageRouter } from '../routing/triage-router';
import type { SupervisionStarter } from '../supervision/supervision-starter';

/** Injection token of the router. */
export const TRIAGE_ROUTER = Symbol('TRIAGE_ROUTER');
/** Injection token of the JetStream client. */
export const JETSTREAM = Symbol('JETSTREAM');
/** Injection token of the {@link SupervisionStarter}. */
export const SUPERVISION_STARTER = Symbol('SUPERVISION_STARTER');
/** Injection token of the per-workflow usage ledger (null when the router calls no model). */
export const WORKFLOW_USAGE = Symbol('WORKFLOW_USAGE');

/**
 * The supervisor's work queue. A workflow's routing task (`email.route`) and a fan-out task
 * (`task.fan_out`) each start a supervisor-routing actor (hosted by the orchestrator); that actor asks
 * back here for the decision (`route.decide`), which the router answers as `route.decided`. The
 * tokens and cost of the router's model call are added to the spend of the workflow the supervision
 * works for (`workflowId` of the task input) in the per-workflow budget, once per task effect id.
 */
@Controller()
export class RouteTaskController {
  constructor(
    @Inject(TRIAGE_ROUTER) private readonly router: TriageRouter,
    @Inject(JETSTREAM) private readonly js: JetStreamClient,
    @Inject(SUPERVISION_STARTER) private readonly supervisions: SupervisionStarter,
    @Inject(WORKFLOW_USAGE) private readonly usage: WorkflowUsageLedger | null,
  ) {}

  @EventPattern(agentTaskSubject(TRIAGE_AGENTS.supervisor.agent))
  route(@Payload() envelope: Envelope, @Ctx() context: JetStreamContext): Promise<string> {
    const task = parseOrThrow(AgentTaskRequested, envelope.payload, `${envelope.type} payload`);
    switch (task.task) {
      case TRIAGE_AGENTS.supervisor.task:
        parseOrThrow(EmailTaskInput, task.input, `${task.task} input`);
        return this.supervisions.startRouting(envelope, task);
      case FAN_OUT_TASK:
        return this.supervisions.startFanOut(envelope, task);
      case ROUTE_DECIDE_TASK: {
        const request = parseOrThrow(RouteDecideInput, task.input, `${task.task} input`);
        const { email } = parseOrThrow(EmailTaskInput, request.input, `${task.task} input.input`);
        return runEffect(this.js, { envelope, context, effectId: task.effectId, kind: 'agent.task', source: 'supervisor' }, async () => {
          const decision = await this.router.route(email);
          // The supervised workflow: the task's budgetWorkflowId (the input's workflowId in tasks emitted before it).
          const budgetWorkflowId = task.budgetWorkflowId ?? request.workflowId;
          if (decision.usage !== undefined && budgetWorkflowId !== undefined && this.usage !== null) {
            await recordModelCallUsage(this.usage, budgetWorkflowId, task.effectId, decision.usage);
          }
          const payload: RouteDecided = { route: decision.route, confidence: decision.confidence, reason: decision.reason, router: decision.router };
          return { type: ROUTE_DECIDED, payload };
        });
      }
      default:
        throw new SchemaValidationError(`${envelope.type} payload`, [`task: the supervisor has no task ${task.task} (tasks: ${TRIAGE_AGENTS.supervisor.task}, ${FAN_OUT_TASK}, ${ROUTE_DECIDE_TASK})`]);
    }
  }
}
