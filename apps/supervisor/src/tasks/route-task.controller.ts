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
import { withWorkflowBudget, type WorkflowCallBudget } from '@troupe/agent-kit';
import type { TriageRouter } from '../routing/triage-router';
import type { SupervisionStarter } from '../supervision/supervision-starter';

/** Injection token of the router. */
export const TRIAGE_ROUTER = Symbol('TRIAGE_ROUTER');
/** Injection token of the JetStream client. */
export const JETSTREAM = Symbol('JETSTREAM');
/** Injection token of the {@link SupervisionStarter}. */
export const SUPERVISION_STARTER = Symbol('SUPERVISION_STARTER');
/** Injection token of the per-workflow budget of the router's model calls ({@link WorkflowCallBudget}; null when the router calls no model). */
export const WORKFLOW_BUDGET = Symbol('WORKFLOW_BUDGET');

/**
 * The supervisor's work queue. A workflow's routing task (`email.route`) and a fan-out task
 * (`task.fan_out`) each start a supervisor-routing actor (hosted by the orchestrator); that actor asks
 * back here for the decision (`route.decide`), which the router answers as `route.decided`. The
 * router's model call is made within the budget of the workflow the supervision works for (the task's
 * `budgetWorkflowId`): once that is spent the header rules decide without asking the model (the
 * decision's reason says why; the supervision's confidence threshold still sends a weak rule decision
 * to a human), and its tokens and cost are added there, once per task effect id.
 */
@Controller()
export class RouteTaskController {
  constructor(
    @Inject(TRIAGE_ROUTER) private readonly router: TriageRouter,
    @Inject(JETSTREAM) private readonly js: JetStreamClient,
    @Inject(SUPERVISION_STARTER) private readonly supervisions: SupervisionStarter,
    @Inject(WORKFLOW_BUDGET) private readonly budget: WorkflowCallBudget | null,
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
          // The supervised workflow: the task's budgetWorkflowId (the input's workflowId in tasks emitted before it).
          const budgetWorkflowId = task.budgetWorkflowId ?? request.workflowId;
          const budget = budgetWorkflowId === undefined ? null : this.budget;
          const call = { workflowId: budgetWorkflowId ?? envelope.workflowId, callId: task.effectId, caller: 'supervisor/router' };
          const decision = await withWorkflowBudget(budget, call, (options) => this.router.route(email, options), (result) => result.usage);
          const payload: RouteDecided = { route: decision.route, confidence: decision.confidence, reason: decision.reason, router: decision.router };
          return { type: ROUTE_DECIDED, payload };
        });
      }
      default:
        throw new SchemaValidationError(`${envelope.type} payload`, [`task: the supervisor has no task ${task.task} (tasks: ${TRIAGE_AGENTS.supervisor.task}, ${FAN_OUT_TASK}, ${ROUTE_DECIDE_TASK})`]);
    }
  }
}
