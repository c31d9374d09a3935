import { z } from 'zod';
import { AgentName, RunParent } from './agents';
import { WorkflowId } from './envelope';

/**
 * Supervision (DESIGN.md "Agents"): the supervisor's handling of one task is a `supervisor-routing`
 * actor. It asks a router for a structured decision `{ route, confidence, reason }` among the registered
 * specialists (below a confidence threshold a human decides), or fans the task out to several
 * specialists in parallel and joins their results with a durable timeout. It answers the asking
 * workflow with a `workflow.event` effect.
 */

/** The workflow type of a supervision. */
export const SUPERVISOR_ROUTING = 'supervisor-routing';

/** One route the supervisor may choose: the specialist behind it, as advertised. */
export const RouteCandidate = z.object({
  route: z.string().min(1).max(64),
  specialist: AgentName,
  task: z.string().min(1).max(128),
  description: z.string().max(2_000),
  /** The event type the specialist answers with. */
  resultEventType: z.string().min(1).max(128),
});
export type RouteCandidate = z.infer<typeof RouteCandidate>;

/** `supervision.requested`: starts a `supervisor-routing` actor. */
export const SUPERVISION_REQUESTED = 'supervision.requested';
export const SupervisionRequested = z.object({
  parent: RunParent,
  /** The task input, passed to the router and to every specialist. */
  input: z.unknown(),
  candidates: z.array(RouteCandidate).min(1).max(32),
  /** `route`: answer the parent with the decision. `fan_out`: send the task to `fanOut` in parallel and join. */
  mode: z.enum(['route', 'fan_out']),
  /** Routes to fan out to (mode `fan_out`). */
  fanOut: z.array(z.string().min(1).max(64)).max(32).default([]),
  /** Below this confidence (0–1) a human decides the route; 0 never asks. */
  confidenceThreshold: z.number().min(0).max(1),
  /** How long the join waits for the specialists (ms); those not answered by then are reported missing. */
  joinTimeoutMs: z.number().int().positive(),
  /** The router asked for the decision (an agent and task). */
  router: z.object({ agent: AgentName, task: z.string().min(1).max(128) }),
  /** The event type the parent is answered with (e.g. `email.routed`, `supervision.completed`). */
  resultEventType: z.string().min(1).max(128),
});
export type SupervisionRequested = z.infer<typeof SupervisionRequested>;

/**
 * The router's task: input and candidates. The workflow whose budget the router's model call counts
 * against is the task's `budgetWorkflowId` ({@link AgentTaskRequested}); `workflowId` here names it in
 * tasks emitted before that field existed (read, no longer written).
 */
export const ROUTE_DECIDE_TASK = 'route.decide';
export const RouteDecideInput = z.object({ input: z.unknown(), candidates: z.array(RouteCandidate).min(1), workflowId: WorkflowId.optional() });
export type RouteDecideInput = z.infer<typeof RouteDecideInput>;

/** `route.decided`: the router's structured decision. */
export const ROUTE_DECIDED = 'route.decided';
export const RouteDecided = z.object({
  route: z.string().min(1).max(64),
  confidence: z.number().min(0).max(1),
  reason: z.string().max(4_000),
  router: z.string().max(256),
});
export type RouteDecided = z.infer<typeof RouteDecided>;

/** `supervision.completed`: the join of a fan-out: who answered (with what), who failed, who missed the deadline. */
export const SUPERVISION_COMPLETED = 'supervision.completed';
export const SupervisionCompleted = z.object({
  answered: z.array(z.object({ route: z.string(), specialist: z.string(), type: z.string(), payload: z.unknown() })),
  failed: z.array(z.object({ route: z.string(), specialist: z.string(), reason: z.string() })),
  missing: z.array(z.object({ route: z.string(), specialist: z.string() })),
  timedOut: z.boolean(),
});
export type SupervisionCompleted = z.infer<typeof SupervisionCompleted>;

/**
 * Publish an event into another workflow: the runtime writes it to the outbox as is, with envelope id
 * `<answersEffectId>:result` (the asking effect's result id, deduplicated there).
 */
export const WorkflowEventEffect = z.object({
  kind: z.literal('workflow.event'),
  workflowId: WorkflowId,
  answersEffectId: z.string().min(1).max(256),
  type: z.string().min(1).max(128),
  payload: z.unknown(),
});
export type WorkflowEventEffect = z.infer<typeof WorkflowEventEffect>;

/** The id of the supervision a workflow's routing task starts: `sup-` plus the effect id with `:` as `_`. */
export function supervisionId(parentEffectId: string): string {
  return `sup-${parentEffectId.replace(/[^A-Za-z0-9_-]/g, '_')}`.slice(0, 128);
}

/** The supervisor's fan-out task: send `input` to the specialists of `routes` in parallel and join within `joinTimeoutMs`. */
export const FAN_OUT_TASK = 'task.fan_out';
export const FanOutTaskInput = z.object({
  input: z.unknown(),
  routes: z.array(z.string().min(1).max(64)).min(1).max(32),
  joinTimeoutMs: z.number().int().positive().optional(),
});
export type FanOutTaskInput = z.infer<typeof FanOutTaskInput>;
