import { assign, setup } from 'xstate';
import {
  INCIDENT_AGENTS,
  type ApprovalDecided,
  type Effect,
  type EffectFailed,
  type FixExecuted,
  type IncidentDiagnosed,
  type IncidentEnriched,
  type IncidentEscalated,
  type IncidentOutcome,
  type IncidentReported,
  type IncidentTaskInput,
  type OncallPaged,
  type Role,
  type SafeActionApplied,
  type SensorAlert,
  type WorkflowCancelRequested,
} from '@troupe/contracts';

/**
 * The incident-response statechart: one instance per sensor alert.
 *
 * enriching → diagnosing ─(critical)→ responding ═╦═ paging:    requesting → paged     ═╗ (joined)
 *                       │                          ╚═ safeAction: requesting → applied ═╝──→ awaitingFixApproval
 *                       ├─(transient, not critical)──────────────────────────────────────→ reporting (monitored)
 *                       └─(otherwise)──────────────────────────────────────────────────→ awaitingFixApproval
 * awaitingFixApproval ─approve/edit→ executingFix ─(succeeded)→ reporting (fixed)
 *                     │                            └─(failed)──→ escalating
 *                     ├─reject→ escalating → reporting (escalated)
 *                     └─(approval deadline)→ fixEscalated (admins) ─approve/edit→ executingFix
 *                                                                  ├─reject→ escalating
 *                                                                  └─(escalation deadline)→ escalating
 * reporting ─incident.reported→ closed. Any effect that fails for good → failed; `workflow.cancel_requested`
 * in any non-final state → cancelled.
 *
 * Pure: it imports only xstate and contract types. Every effect is a `requestEffect` action whose params
 * are an {@link Effect}; results come back as events; delays are named and computed from context, and the
 * actor runtime turns them into durable timers.
 */

/** Version of this definition, stored with every snapshot. Bump on any change to states or context. */
export const INCIDENT_RESPONSE_MACHINE_VERSION = '1';

/** Roles that may decide the fix gate. */
export const INCIDENT_APPROVER_ROLES: Role[] = ['approver', 'admin'];

/** Roles that may decide the fix gate once escalated after its deadline. */
export const INCIDENT_ESCALATION_ROLES: Role[] = ['admin'];

/** The gates of the incident workflow. */
export type IncidentGate = 'fix-approval' | 'fix-approval-escalated';

/** Machine input: the alert and the gate deadlines (ms). */
export interface IncidentResponseInput {
  workflowId: string;
  alert: SensorAlert;
  /** How long a proposed fix waits for an approver before it escalates to an admin (ms). */
  approvalTimeoutMs: number;
  /** How long an escalated fix waits before the incident is escalated to engineering unfixed (ms). */
  escalationTimeoutMs: number;
}

/** A human decision as recorded in context (`system:deadline` when a deadline decided). */
export interface IncidentDecision {
  gateId: string;
  decision: ApprovalDecided['decision'];
  approverId: string;
  comment: string | null;
}

/** The machine's context. */
export interface IncidentResponseContext {
  workflowId: string;
  alert: SensorAlert;
  approvalTimeoutMs: number;
  escalationTimeoutMs: number;
  enrichment: IncidentEnriched | null;
  diagnosis: IncidentDiagnosed | null;
  page: OncallPaged | null;
  safeAction: SafeActionApplied | null;
  decision: IncidentDecision | null;
  /** What the fix executor is told to do: the proposed fix, or the approver's edit. */
  fixInstructions: string | null;
  fix: FixExecuted | null;
  /** Why the incident goes to engineering, once it does. */
  escalationReason: string | null;
  escalation: IncidentEscalated | null;
  outcome: IncidentOutcome | null;
  report: IncidentReported | null;
  failure: string | null;
  cancellation: { reason: string; requestedBy: string } | null;
}

/** Events the machine accepts; `payload` is already validated by the runtime against the contract schema. */
export type IncidentResponseEvent =
  | { type: 'incident.enriched'; payload: IncidentEnriched }
  | { type: 'incident.diagnosed'; payload: IncidentDiagnosed }
  | { type: 'oncall.paged'; payload: OncallPaged }
  | { type: 'safe_action.applied'; payload: SafeActionApplied }
  | { type: 'approval.decided'; payload: ApprovalDecided }
  | { type: 'fix.executed'; payload: FixExecuted }
  | { type: 'incident.escalated'; payload: IncidentEscalated }
  | { type: 'incident.reported'; payload: IncidentReported }
  | { type: 'effect.failed'; payload: EffectFailed }
  | { type: 'workflow.cancel_requested'; payload: WorkflowCancelRequested };

/** The id of a gate instance: deterministic, so a decision can name it. */
export function incidentGateId(workflowId: string, gate: IncidentGate): string {
  return `${workflowId}:${gate}`;
}

/** What an incident agent is told: the alert and everything the workflow knows so far. */
export function incidentTaskInput(context: IncidentResponseContext): IncidentTaskInput {
  return {
    workflowId: context.workflowId,
    alert: context.alert,
    enrichment: context.enrichment,
    diagnosis: context.diagnosis,
    page: context.page,
    safeAction: context.safeAction,
    fixInstructions: context.fixInstructions,
    fix: context.fix,
    escalation: context.escalation,
    decision: context.decision === null ? null : { decision: context.decision.decision, approverId: context.decision.approverId, comment: context.decision.comment },
    outcome: context.outcome,
  };
}

function agentTask(agent: keyof typeof INCIDENT_AGENTS, context: IncidentResponseContext): Effect {
  return { kind: 'agent.task', agent: INCIDENT_AGENTS[agent].agent, task: INCIDENT_AGENTS[agent].task, input: incidentTaskInput(context) };
}

function recordDecision(event: IncidentResponseEvent): IncidentDecision | null {
  if (event.type !== 'approval.decided') return null;
  const { gateId, decision, approver, comment } = event.payload;
  return { gateId, decision, approverId: approver.id, comment };
}

function gateRequest(context: IncidentResponseContext, gate: IncidentGate): Effect {
  const fix = context.diagnosis?.proposedFix;
  const why =
    `Mote ${context.alert.moteId} (${context.alert.indoor ? 'indoor' : 'outdoor'}): ${context.diagnosis?.cause ?? 'no diagnosis'} ` +
    `(diagnoser ${context.diagnosis?.diagnoser ?? 'unknown'}, confidence ${Math.round((context.diagnosis?.confidence ?? 0) * 100)}%). ` +
    `${context.page === null ? '' : `On-call ${context.page.onCall} paged. `}${context.safeAction === null ? '' : `Safe action taken: ${context.safeAction.action}. `}` +
    'Approve to run the fix, edit to run your instructions instead, reject to escalate to engineering.';
  return {
    kind: 'approval.request',
    gateId: incidentGateId(context.workflowId, gate),
    gate,
    proposed: fix ?? null,
    reason:
      gate === 'fix-approval'
        ? why
        : `No decision within ${Math.round(context.approvalTimeoutMs / 1_000)} s; escalated to an admin. Without a decision within ${Math.round(context.escalationTimeoutMs / 1_000)} s the incident goes to engineering unfixed. ${why}`,
    allowedRoles: gate === 'fix-approval' ? INCIDENT_APPROVER_ROLES : INCIDENT_ESCALATION_ROLES,
  };
}

/** The transitions of a fix gate on `approval.decided`, the same at the first gate and the escalated one. */
function fixDecisionTransitions(gate: IncidentGate) {
  return [
    { guard: { type: 'fixDecision', params: { gate, decision: 'approved' } }, actions: ['recordDecision', 'runProposedFix'], target: 'executingFix' },
    { guard: { type: 'fixDecision', params: { gate, decision: 'edited' } }, actions: ['recordDecision', 'runEditedFix'], target: 'executingFix' },
    { guard: { type: 'fixDecision', params: { gate, decision: 'rejected' } }, actions: ['recordDecision', 'escalateRejectedFix'], target: 'escalating' },
  ] as const;
}

/** The incident-response machine definition (pure). */
export const incidentResponseMachine = setup({
  types: {
    context: {} as IncidentResponseContext,
    events: {} as IncidentResponseEvent,
    input: {} as IncidentResponseInput,
  },
  actions: {
    /** Emits an effect. The host collects it from the transition result; it never runs here. */
    requestEffect: (_, _effect: Effect) => undefined,
    recordDecision: assign({ decision: ({ event }) => recordDecision(event) }),
    runProposedFix: assign({ fixInstructions: ({ context }) => context.diagnosis?.proposedFix.description ?? '' }),
    runEditedFix: assign({ fixInstructions: ({ event }) => (event.type === 'approval.decided' ? (event.payload.editedText ?? '').trim() : '') }),
    escalateRejectedFix: assign({
      escalationReason: ({ event }) =>
        event.type === 'approval.decided'
          ? `The proposed fix was rejected by ${event.payload.approver.id}${event.payload.comment === null ? '' : `: ${event.payload.comment}`}`
          : 'The proposed fix was rejected',
    }),
  },
  delays: {
    approvalTimeout: ({ context }) => context.approvalTimeoutMs,
    escalationTimeout: ({ context }) => context.escalationTimeoutMs,
  },
  guards: {
    /** The alert or the diagnosis says critical: page and take the safe action before asking for a fix. */
    isCritical: ({ context, event }) => event.type === 'incident.diagnosed' && (event.payload.severity === 'critical' || context.alert.severity === 'critical'),
    isTransient: ({ event }) => event.type === 'incident.diagnosed' && event.payload.transient,
    fixSucceeded: ({ event }) => event.type === 'fix.executed' && event.payload.succeeded,
    /** A decision at `gate` by a principal allowed there, with this outcome (an edit must carry text). */
    fixDecision: ({ context, event }, params: { gate: IncidentGate; decision: ApprovalDecided['decision'] }) => {
      if (event.type !== 'approval.decided') return false;
      const roles = params.gate === 'fix-approval' ? INCIDENT_APPROVER_ROLES : INCIDENT_ESCALATION_ROLES;
      return (
        event.payload.gateId === incidentGateId(context.workflowId, params.gate) &&
        event.payload.approver.roles.some((role) => roles.includes(role)) &&
        event.payload.decision === params.decision &&
        (params.decision !== 'edited' || (event.payload.editedText ?? '').trim() !== '')
      );
    },
  },
}).createMachine({
  id: 'incident-response',
  initial: 'enriching',
  context: ({ input }) => ({
    workflowId: input.workflowId,
    alert: input.alert,
    approvalTimeoutMs: input.approvalTimeoutMs,
    escalationTimeoutMs: input.escalationTimeoutMs,
    enrichment: null,
    diagnosis: null,
    page: null,
    safeAction: null,
    decision: null,
    fixInstructions: null,
    fix: null,
    escalationReason: null,
    escalation: null,
    outcome: null,
    report: null,
    failure: null,
    cancellation: null,
  }),
  on: {
    // The only action taken before a human decides is the safe action, which is reversible and stays
    // recorded in context; a cancelled incident keeps it for the operator to undo.
    'workflow.cancel_requested': {
      target: '.cancelled',
      actions: assign({ cancellation: ({ event }) => ({ reason: event.payload.reason, requestedBy: event.payload.requestedBy.id }) }),
    },
    'effect.failed': {
      target: '.failed',
      actions: assign({ failure: ({ event }) => `${event.payload.kind} ${event.payload.effectId} failed: ${event.payload.reason}` }),
    },
  },
  states: {
    enriching: {
      entry: { type: 'requestEffect', params: ({ context }) => agentTask('enricher', context) },
      on: { 'incident.enriched': { actions: assign({ enrichment: ({ event }) => event.payload }), target: 'diagnosing' } },
    },
    diagnosing: {
      entry: { type: 'requestEffect', params: ({ context }) => agentTask('diagnoser', context) },
      on: {
        'incident.diagnosed': [
          { guard: 'isCritical', actions: assign({ diagnosis: ({ event }) => event.payload }), target: 'responding' },
          { guard: 'isTransient', actions: assign({ diagnosis: ({ event }) => event.payload, outcome: 'monitored' }), target: 'reporting' },
          { actions: assign({ diagnosis: ({ event }) => event.payload }), target: 'awaitingFixApproval' },
        ],
      },
    },
    // Both regions start together; the join (onDone) waits for the page and the safe action.
    responding: {
      type: 'parallel',
      onDone: 'awaitingFixApproval',
      states: {
        paging: {
          initial: 'requesting',
          states: {
            requesting: {
              entry: { type: 'requestEffect', params: ({ context }) => agentTask('pager', context) },
              on: { 'oncall.paged': { actions: assign({ page: ({ event }) => event.payload }), target: 'paged' } },
            },
            paged: { type: 'final' },
          },
        },
        safeAction: {
          initial: 'requesting',
          states: {
            requesting: {
              entry: { type: 'requestEffect', params: ({ context }) => agentTask('safeAction', context) },
              on: { 'safe_action.applied': { actions: assign({ safeAction: ({ event }) => event.payload }), target: 'applied' } },
            },
            applied: { type: 'final' },
          },
        },
      },
    },
    awaitingFixApproval: {
      tags: ['approval'],
      entry: { type: 'requestEffect', params: ({ context }) => gateRequest(context, 'fix-approval') },
      after: { approvalTimeout: 'fixEscalated' },
      on: { 'approval.decided': fixDecisionTransitions('fix-approval') },
    },
    fixEscalated: {
      tags: ['approval'],
      entry: { type: 'requestEffect', params: ({ context }) => gateRequest(context, 'fix-approval-escalated') },
      after: {
        escalationTimeout: {
          target: 'escalating',
          actions: assign({
            decision: ({ context }) => ({
              gateId: incidentGateId(context.workflowId, 'fix-approval-escalated'),
              decision: 'rejected' as const,
              approverId: 'system:deadline',
              comment: 'No decision before the escalation deadline; escalated to engineering unfixed.',
            }),
            escalationReason: 'No decision on the proposed fix before the escalation deadline',
          }),
        },
      },
      on: { 'approval.decided': fixDecisionTransitions('fix-approval-escalated') },
    },
    executingFix: {
      entry: { type: 'requestEffect', params: ({ context }) => agentTask('remediator', context) },
      on: {
        'fix.executed': [
          { guard: 'fixSucceeded', actions: assign({ fix: ({ event }) => event.payload, outcome: 'fixed' }), target: 'reporting' },
          {
            actions: assign({ fix: ({ event }) => event.payload, escalationReason: ({ event }) => `The fix did not work: ${event.payload.detail}` }),
            target: 'escalating',
          },
        ],
      },
    },
    escalating: {
      entry: { type: 'requestEffect', params: ({ context }) => agentTask('escalator', context) },
      on: { 'incident.escalated': { actions: assign({ escalation: ({ event }) => event.payload, outcome: 'escalated' }), target: 'reporting' } },
    },
    // Every branch joins here: the report reads the whole context.
    reporting: {
      entry: { type: 'requestEffect', params: ({ context }) => agentTask('reporter', context) },
      on: { 'incident.reported': { actions: assign({ report: ({ event }) => event.payload }), target: 'closed' } },
    },
    closed: { type: 'final' },
    failed: { type: 'final' },
    cancelled: { type: 'final' },
  },
});

/** Small facts about an incident snapshot for the read model and the change feed. */
export function incidentResponseTags(context: IncidentResponseContext): Record<string, string> {
  const tags: Record<string, string> = {
    moteId: String(context.alert.moteId),
    alertSeverity: context.alert.severity,
    alertId: context.alert.alertId,
  };
  if (context.diagnosis !== null) {
    tags.severity = context.diagnosis.severity;
    tags.proposedFix = context.diagnosis.proposedFix.action;
  }
  if (context.decision !== null) tags.fixDecision = context.decision.decision;
  if (context.outcome !== null) tags.outcome = context.outcome;
  for (const [key, value] of Object.entries(context.alert.origin)) tags[`origin.${key}`] = value;
  return tags;
}
