import { assign, enqueueActions, setup } from 'xstate';
import type {
  ApprovalDecided,
  Effect,
  EffectFailed,
  Role,
  RouteCandidate,
  RouteDecided,
  SupervisionCompleted,
  SupervisionRequested,
  WorkflowCancelRequested,
} from '@troupe/contracts';

/**
 * The supervisor's handling of one task (DESIGN.md "Agents"): one instance per task.
 *
 * starting ─(mode route)→ deciding ─(confident decision)→ done (the parent gets the decision)
 *                                   ─(confidence below the threshold)→ reviewing ─(human approves or picks a route)→ done
 *                                   ─(a route that is not a candidate, a human rejection)→ failed
 * starting ─(mode fan_out)→ dispatching ─(every specialist answered or failed)→ done (the join)
 *                                        ─(join timeout, a durable timer)→ done, listing who is missing
 * `workflow.cancel_requested` in any state that is not final → failed.
 *
 * The decision comes from the router agent as `route.decided` `{ route, confidence, reason, router }`;
 * fanned-out tasks leave together as `agent.task` effects and their answers (each specialist's own
 * result event type, as advertised) are joined. The parent is answered with one `workflow.event` effect
 * (a failure as `effect.failed`). The router's and the specialists' tasks carry `budgetWorkflowId`, the
 * parent workflow, so every model call made for it counts against its budget. Pure: imports only xstate
 * and contract types.
 */

/** Version of this definition, stored with every snapshot. */
export const SUPERVISOR_ROUTING_MACHINE_VERSION = '1';

/** Roles that may decide a route review. */
export const SUPERVISOR_APPROVER_ROLES: Role[] = ['approver', 'admin'];

/** Machine input: the request and the supervision's id. */
export type SupervisorRoutingInput = SupervisionRequested & { supervisionId: string };

/** One fanned-out task: its route and specialist, and what became of it. */
export interface DispatchedTask {
  route: string;
  specialist: string;
  resultEventType: string;
  status: 'pending' | 'answered' | 'failed';
  type: string | null;
  payload: unknown;
  reason: string | null;
}

/** The machine's context. */
export interface SupervisorRoutingContext {
  supervisionId: string;
  request: SupervisionRequested;
  decision: RouteDecided | null;
  dispatched: DispatchedTask[];
  timedOut: boolean;
  failure: string | null;
}

/** Events the machine accepts: the named ones, and specialists' answers of any advertised result type. */
export type SupervisorRoutingEvent =
  | { type: 'route.decided'; payload: RouteDecided }
  | { type: 'approval.decided'; payload: ApprovalDecided }
  | { type: 'effect.failed'; payload: EffectFailed }
  | { type: 'workflow.cancel_requested'; payload: WorkflowCancelRequested }
  | { type: string; payload: unknown };

/** The id of the route-review gate of a supervision. */
export function routeReviewGateId(supervisionId: string): string {
  return `${supervisionId}:route-review`;
}

/** The n of an effect id `<workflowId>:<version>:<n>` (the order of the effect in its step), or null. */
function effectIndex(effectId: string): number | null {
  const last = effectId.slice(effectId.lastIndexOf(':') + 1);
  return /^\d+$/.test(last) ? Number(last) : null;
}

/** The workflow whose budget the supervision's tasks count against: its parent's (or the parent's own budget workflow, for a nested supervision). */
function budgetWorkflowId(context: SupervisorRoutingContext): string {
  return context.request.parent.budgetWorkflowId ?? context.request.parent.workflowId;
}

function candidate(context: SupervisorRoutingContext, route: string): RouteCandidate | undefined {
  return context.request.candidates.find((c) => c.route === route);
}

/** The join of a fan-out as the parent receives it. */
export function joinResult(context: SupervisorRoutingContext): SupervisionCompleted {
  return {
    answered: context.dispatched.filter((t) => t.status === 'answered').map((t) => ({ route: t.route, specialist: t.specialist, type: t.type ?? '', payload: t.payload })),
    failed: context.dispatched.filter((t) => t.status === 'failed').map((t) => ({ route: t.route, specialist: t.specialist, reason: t.reason ?? '' })),
    missing: context.dispatched.filter((t) => t.status === 'pending').map((t) => ({ route: t.route, specialist: t.specialist })),
    timedOut: context.timedOut,
  };
}

/** The index of the pending task an event answers (by the specialist's result event type), or -1. */
function answeredIndex(context: SupervisorRoutingContext, event: SupervisorRoutingEvent): number {
  if (event.type === 'effect.failed') {
    const index = effectIndex((event.payload as EffectFailed).effectId);
    return index !== null && context.dispatched[index]?.status === 'pending' ? index : -1;
  }
  return context.dispatched.findIndex((t) => t.status === 'pending' && t.resultEventType === event.type);
}

function humanRoute(context: SupervisorRoutingContext, event: SupervisorRoutingEvent): string | null {
  if (event.type !== 'approval.decided') return null;
  const payload = event.payload as ApprovalDecided;
  if (payload.decision === 'approved') return context.decision?.route ?? null;
  if (payload.decision === 'edited') {
    const route = (payload.editedText ?? '').trim();
    return candidate(context, route) === undefined ? null : route;
  }
  return null;
}

function decisionBy(context: SupervisorRoutingContext, event: SupervisorRoutingEvent, decision: ApprovalDecided['decision']): boolean {
  if (event.type !== 'approval.decided') return false;
  const payload = event.payload as ApprovalDecided;
  return (
    payload.gateId === routeReviewGateId(context.supervisionId) &&
    payload.decision === decision &&
    payload.approver.roles.some((role) => SUPERVISOR_APPROVER_ROLES.includes(role))
  );
}

/** The supervisor-routing machine definition (pure). */
export const supervisorRoutingMachine = setup({
  types: {
    context: {} as SupervisorRoutingContext,
    events: {} as SupervisorRoutingEvent,
    input: {} as SupervisorRoutingInput,
  },
  actions: {
    /** Emits an effect. The host collects it from the transition result; it never runs here. */
    requestEffect: (_, _effect: Effect) => undefined,
    recordAnswer: assign(({ context, event }) => {
      const index = answeredIndex(context, event);
      if (index < 0) return {};
      const dispatched = [...context.dispatched];
      const task = dispatched[index];
      dispatched[index] =
        event.type === 'effect.failed'
          ? { ...task, status: 'failed', reason: (event.payload as EffectFailed).reason }
          : { ...task, status: 'answered', type: event.type, payload: event.payload };
      return { dispatched };
    }),
  },
  guards: {
    isFanOut: ({ context }) => context.request.mode === 'fan_out',
    unknownRoute: ({ context, event }) => event.type === 'route.decided' && candidate(context, (event.payload as RouteDecided).route) === undefined,
    confident: ({ context, event }) => event.type === 'route.decided' && (event.payload as RouteDecided).confidence >= context.request.confidenceThreshold,
    humanPicked: ({ context, event }) => (decisionBy(context, event, 'approved') || decisionBy(context, event, 'edited')) && humanRoute(context, event) !== null,
    humanRejected: ({ context, event }) => decisionBy(context, event, 'rejected'),
    answersPending: ({ context, event }) => answeredIndex(context, event) >= 0,
    answersLastPending: ({ context, event }) => {
      const index = answeredIndex(context, event);
      return index >= 0 && context.dispatched.every((t, n) => n === index || t.status !== 'pending');
    },
  },
  delays: {
    joinTimeout: ({ context }) => context.request.joinTimeoutMs,
  },
}).createMachine({
  id: 'supervisor-routing',
  initial: 'starting',
  context: ({ input }) => {
    const { supervisionId, ...request } = input;
    return { supervisionId, request, decision: null, dispatched: [], timedOut: false, failure: null };
  },
  on: {
    'workflow.cancel_requested': {
      target: '.failed',
      actions: assign({ failure: ({ event }) => `cancelled: ${(event.payload as WorkflowCancelRequested).reason}` }),
    },
  },
  states: {
    starting: {
      always: [{ guard: 'isFanOut', target: 'dispatching' }, { target: 'deciding' }],
    },
    deciding: {
      entry: {
        type: 'requestEffect',
        params: ({ context }) => ({
          kind: 'agent.task',
          agent: context.request.router.agent,
          task: context.request.router.task,
          input: { input: context.request.input, candidates: context.request.candidates },
          // The router's model call counts against the budget of the workflow the supervision works for.
          budgetWorkflowId: budgetWorkflowId(context),
        }),
      },
      on: {
        'route.decided': [
          {
            guard: 'unknownRoute',
            target: 'failed',
            actions: assign({
              failure: ({ context, event }) =>
                `the router chose ${(event.payload as RouteDecided).route}, which is not a registered route (${context.request.candidates.map((c) => c.route).join(', ')})`,
            }),
          },
          { guard: 'confident', target: 'done', actions: assign({ decision: ({ event }) => event.payload as RouteDecided }) },
          { target: 'reviewing', actions: assign({ decision: ({ event }) => event.payload as RouteDecided }) },
        ],
        'effect.failed': { target: 'failed', actions: assign({ failure: ({ event }) => `the router failed: ${(event.payload as EffectFailed).reason}` }) },
      },
    },
    reviewing: {
      tags: ['approval'],
      entry: {
        type: 'requestEffect',
        params: ({ context }) => ({
          kind: 'approval.request',
          gateId: routeReviewGateId(context.supervisionId),
          gate: 'route-review',
          proposed: context.decision,
          reason:
            `The router (${context.decision?.router ?? 'unknown'}) is only ${Math.round((context.decision?.confidence ?? 0) * 100)}% sure of route ` +
            `${context.decision?.route ?? 'unknown'} (${context.decision?.reason ?? ''}); the threshold is ${Math.round(context.request.confidenceThreshold * 100)}%. ` +
            `Approve to keep it, edit with one of ${context.request.candidates.map((c) => c.route).join(', ')}, or reject.`,
          allowedRoles: SUPERVISOR_APPROVER_ROLES,
        }),
      },
      on: {
        'approval.decided': [
          {
            guard: 'humanPicked',
            target: 'done',
            actions: assign({
              decision: ({ context, event }) => {
                const payload = event.payload as ApprovalDecided;
                const route = humanRoute(context, event) ?? '';
                return { route, confidence: 1, reason: `chosen by ${payload.approver.id}${payload.comment === null ? '' : `: ${payload.comment}`}`, router: `human/${payload.approver.id}` };
              },
            }),
          },
          { guard: 'humanRejected', target: 'failed', actions: assign({ failure: ({ event }) => `a human rejected the routing: ${(event.payload as ApprovalDecided).comment ?? 'no comment'}` }) },
        ],
      },
    },
    dispatching: {
      entry: [
        assign({
          dispatched: ({ context }) =>
            context.request.fanOut.flatMap((route): DispatchedTask[] => {
              const target = candidate(context, route);
              return target === undefined
                ? []
                : [{ route, specialist: target.specialist, resultEventType: target.resultEventType, status: 'pending', type: null, payload: null, reason: null }];
            }),
        }),
        enqueueActions(({ context, enqueue }) => {
          for (const task of context.dispatched) {
            const target = candidate(context, task.route);
            // Each specialist's model calls (its run's included) count against the supervised workflow's budget.
            enqueue({
              type: 'requestEffect',
              params: { kind: 'agent.task', agent: task.specialist, task: target?.task ?? '', input: context.request.input, budgetWorkflowId: budgetWorkflowId(context) },
            });
          }
        }),
      ],
      always: { guard: ({ context }) => context.dispatched.length === 0, target: 'done' },
      after: { joinTimeout: { target: 'done', actions: assign({ timedOut: true }) } },
      on: {
        '*': [
          { guard: 'answersLastPending', actions: 'recordAnswer', target: 'done' },
          { guard: 'answersPending', actions: 'recordAnswer' },
        ],
      },
    },
    done: {
      type: 'final',
      entry: {
        type: 'requestEffect',
        params: ({ context }) => ({
          kind: 'workflow.event',
          workflowId: context.request.parent.workflowId,
          answersEffectId: context.request.parent.effectId,
          type: context.request.resultEventType,
          payload: context.request.mode === 'fan_out' ? joinResult(context) : context.decision,
        }),
      },
    },
    failed: {
      type: 'final',
      entry: {
        type: 'requestEffect',
        params: ({ context }) => ({
          kind: 'workflow.event',
          workflowId: context.request.parent.workflowId,
          answersEffectId: context.request.parent.effectId,
          type: 'effect.failed',
          payload: { effectId: context.request.parent.effectId, kind: 'agent.task', reason: `supervision ${context.supervisionId}: ${context.failure ?? 'failed'}` },
        }),
      },
    },
  },
});
