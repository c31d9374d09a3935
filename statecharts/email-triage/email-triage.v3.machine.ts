import { and, assign, setup } from 'xstate';
import {
  TRIAGE_AGENTS,
  type ApprovalDecided,
  type Effect,
  type Email,
  type EmailClassified,
  type EmailQuarantined,
  type EmailRouted,
  type EmailSummarised,
  type EffectFailed,
  type ReplyDrafted,
  type ReplySent,
  type Role,
  type WorkflowCancelRequested,
} from '@troupe/contracts';

/**
 * email-triage@3, frozen: the machine as it was before version 4 (agent failures handed to a human),
 * kept so that instances started on it continue, replay and fork on it until they finish or are
 * migrated (`EMAIL_TRIAGE_V3_TO_V4`). Do not change it: any change would break the replay of its
 * journals (digests). Gate ids, roles and helpers are its own copies for the same reason.
 *
 * The email-triage statechart: one instance per email.
 *
 * received → classifying → (low confidence → humanReview) → quarantining → quarantined (spam)
 *                                                          → routing → summarising → summarised
 *                                                                    → drafting → awaitingApproval → sending → sent
 *                                                                                                  → rejected
 *                                                      awaitingApproval —(approval deadline)→ escalated (admins only)
 *                                                      escalated —(escalation deadline)→ rejected
 *                 humanReview —(approval deadline)→ reviewEscalated (admins only) —(escalation deadline)→ quarantining (unreviewed)
 * Any effect that fails for good → failed; `workflow.cancel_requested` in any non-final state → cancelled.
 *
 * Pure: it imports only xstate and contract types. Every effect leaves as a `requestEffect` action whose
 * params are an {@link Effect}; results come back as events. Delays (`after`) are named in `delays`
 * and computed from context; the actor runtime turns them into durable timers.
 */

/** Version of this definition, stored with every snapshot. */
export const EMAIL_TRIAGE_V3_MACHINE_VERSION = '3';

/** Roles that may decide the reply gate and the classification review gate. */
const TRIAGE_APPROVER_ROLES: Role[] = ['approver', 'admin'];

/** Roles that may decide a reply gate escalated after its deadline. */
const TRIAGE_ESCALATION_ROLES: Role[] = ['admin'];

/** The gates of the triage workflow. */
type TriageGate = 'classification-review' | 'classification-review-escalated' | 'reply-approval' | 'reply-approval-escalated';

/** Machine input: the email and the configured confidence threshold in [0, 1]. */
export interface EmailTriageV3Input {
  workflowId: string;
  email: Email;
  /** Classifications with confidence below this go to human review instead of being routed. */
  confidenceThreshold: number;
  /** How long a drafted reply (or a classification review) waits for a decision before it escalates to an admin (ms). */
  approvalTimeoutMs: number;
  /** How long an escalated reply waits before it is rejected automatically, an escalated review before the email is quarantined unreviewed (ms). */
  escalationTimeoutMs: number;
}

/** A human decision as recorded in context. */
interface RecordedDecision {
  gateId: string;
  decision: ApprovalDecided['decision'];
  approverId: string;
  comment: string | null;
}

/** The machine's context. */
export interface EmailTriageV3Context {
  workflowId: string;
  email: Email;
  confidenceThreshold: number;
  approvalTimeoutMs: number;
  escalationTimeoutMs: number;
  classification: EmailClassified | null;
  /** The label the workflow acted on (the classifier's, or the reviewer's). */
  label: EmailClassified['label'] | null;
  reviewDecision: RecordedDecision | null;
  routing: EmailRouted | null;
  summary: EmailSummarised | null;
  /** What the spam-quarantine agent recorded. */
  quarantine: EmailQuarantined | null;
  draft: ReplyDrafted | null;
  replyDecision: RecordedDecision | null;
  /** The body that was (or is being) sent: the draft, or the approver's edit. */
  finalReplyBody: string | null;
  sent: ReplySent | null;
  failure: string | null;
  /** Why and by whom the workflow was cancelled, when it was. */
  cancellation: { reason: string; requestedBy: string } | null;
}

/** Events the machine accepts; `payload` is already validated by the runtime against the contract schema. */
export type EmailTriageV3Event =
  | { type: 'email.classified'; payload: EmailClassified }
  | { type: 'email.quarantined'; payload: EmailQuarantined }
  | { type: 'email.routed'; payload: EmailRouted }
  | { type: 'email.summarised'; payload: EmailSummarised }
  | { type: 'reply.drafted'; payload: ReplyDrafted }
  | { type: 'approval.decided'; payload: ApprovalDecided }
  | { type: 'reply.sent'; payload: ReplySent }
  | { type: 'effect.failed'; payload: EffectFailed }
  | { type: 'workflow.cancel_requested'; payload: WorkflowCancelRequested };

/** The id of a gate instance: deterministic, so a decision can name it. */
function triageGateId(workflowId: string, gate: TriageGate): string {
  return `${workflowId}:${gate}`;
}

function agentTask(agent: keyof typeof TRIAGE_AGENTS, email: Email): Effect {
  return { kind: 'agent.task', agent: TRIAGE_AGENTS[agent].agent, task: TRIAGE_AGENTS[agent].task, input: { email } };
}

function decisionAllowed(context: EmailTriageV3Context, event: EmailTriageV3Event, gate: TriageGate, roles: Role[]): boolean {
  if (event.type !== 'approval.decided') return false;
  return event.payload.gateId === triageGateId(context.workflowId, gate) && event.payload.approver.roles.some((role) => roles.includes(role));
}

function recordDecision(event: EmailTriageV3Event): RecordedDecision | null {
  if (event.type !== 'approval.decided') return null;
  const { gateId, decision, approver, comment } = event.payload;
  return { gateId, decision, approverId: approver.id, comment };
}

function oppositeLabel(label: EmailClassified['label']): EmailClassified['label'] {
  return label === 'spam' ? 'ham' : 'spam';
}

/**
 * The label a review decision settles on: `approved` keeps the classifier's label, `rejected` flips it,
 * `edited` names it (`editedText` "spam" or "ham"); null for an edit that names neither.
 */
function reviewedLabel(context: EmailTriageV3Context, event: EmailTriageV3Event): EmailClassified['label'] | null {
  if (event.type !== 'approval.decided' || context.classification === null) return null;
  const proposed = context.classification.label;
  if (event.payload.decision === 'approved') return proposed;
  if (event.payload.decision === 'rejected') return oppositeLabel(proposed);
  const edited = event.payload.editedText?.trim().toLowerCase();
  return edited === 'spam' || edited === 'ham' ? edited : null;
}

/**
 * The transitions of a reply gate on `approval.decided`, the same for the first gate and the escalated
 * one: reject → rejected; approve → sending the draft; edit → sending the edited text. Only a principal
 * allowed at `gate` moves the workflow (guard `replyDecision`).
 */
function replyDecisionTransitions(gate: 'reply-approval' | 'reply-approval-escalated') {
  return [
    { guard: { type: 'replyDecision', params: { gate, decision: 'rejected' } }, actions: 'recordReplyDecision', target: 'rejected' },
    { guard: { type: 'replyDecision', params: { gate, decision: 'approved' } }, actions: ['recordReplyDecision', 'sendDraft'], target: 'sending' },
    { guard: { type: 'replyDecision', params: { gate, decision: 'edited' } }, actions: ['recordReplyDecision', 'sendEditedText'], target: 'sending' },
  ] as const;
}

/** Why a human is asked to review a classification (shown at both review gates). */
function reviewReason(context: EmailTriageV3Context): string {
  return (
    `The classifier (${context.classification?.classifier ?? 'unknown'}) is only ` +
    `${Math.round((context.classification?.confidence ?? 0) * 100)}% sure this is ${context.classification?.label ?? 'unknown'}; ` +
    `the threshold is ${Math.round(context.confidenceThreshold * 100)}%. ` +
    'Approve to accept the label, reject to flip it, or edit with "spam" or "ham".'
  );
}

/**
 * The transitions of a review gate on `approval.decided`, the same for the first gate and the escalated
 * one: a decision settling on spam quarantines, one settling on ham routes (guard `reviewDecision`).
 */
function reviewDecisionTransitions(gate: 'classification-review' | 'classification-review-escalated') {
  return [
    { guard: { type: 'reviewDecision', params: { gate, label: 'spam' } }, actions: 'recordReviewAsSpam', target: 'quarantining' },
    { guard: { type: 'reviewDecision', params: { gate, label: 'ham' } }, actions: 'recordReviewAsHam', target: 'routing' },
  ] as const;
}

/** The fields of `input` the context keeps; none when XState evaluates the factory without input. */
function inputFields(input: EmailTriageV3Input | undefined): EmailTriageV3Input {
  if (input === undefined) return {} as EmailTriageV3Input;
  const { workflowId, email, confidenceThreshold, approvalTimeoutMs, escalationTimeoutMs } = input;
  return { workflowId, email, confidenceThreshold, approvalTimeoutMs, escalationTimeoutMs };
}

/** The email-triage machine definition (pure). */
export const emailTriageV3Machine = setup({
  types: {
    context: {} as EmailTriageV3Context,
    events: {} as EmailTriageV3Event,
    input: {} as EmailTriageV3Input,
  },
  actions: {
    /** Emits an effect. The host collects it from the transition result; it never runs here. */
    requestEffect: (_, _effect: Effect) => undefined,
    recordReplyDecision: assign({ replyDecision: ({ event }) => recordDecision(event) }),
    recordReviewAsSpam: assign({ reviewDecision: ({ event }) => recordDecision(event), label: 'spam' }),
    recordReviewAsHam: assign({ reviewDecision: ({ event }) => recordDecision(event), label: 'ham' }),
    sendDraft: assign({ finalReplyBody: ({ context }) => context.draft?.body ?? '' }),
    sendEditedText: assign({
      finalReplyBody: ({ event }) => (event.type === 'approval.decided' ? (event.payload.editedText ?? '') : ''),
    }),
    recordClassification: assign({
      classification: ({ event }) => (event.type === 'email.classified' ? event.payload : null),
    }),
  },
  delays: {
    approvalTimeout: ({ context }) => context.approvalTimeoutMs,
    escalationTimeout: ({ context }) => context.escalationTimeoutMs,
  },
  guards: {
    isConfident: ({ context, event }) =>
      event.type === 'email.classified' && event.payload.confidence >= context.confidenceThreshold,
    isSpam: ({ event }) => event.type === 'email.classified' && event.payload.label === 'spam',
    /** A decision at the review gate `gate` by a principal allowed there (approvers, or admins once escalated) settling on `label`. */
    reviewDecision: ({ context, event }, params: { gate: 'classification-review' | 'classification-review-escalated'; label: EmailClassified['label'] }) =>
      decisionAllowed(context, event, params.gate, params.gate === 'classification-review' ? TRIAGE_APPROVER_ROLES : TRIAGE_ESCALATION_ROLES) &&
      reviewedLabel(context, event) === params.label,
    routedToSummary: ({ event }) => event.type === 'email.routed' && event.payload.route === 'summarise',
    /** A decision at `gate` by a principal allowed there, with this outcome (an edit must carry text). */
    replyDecision: ({ context, event }, params: { gate: 'reply-approval' | 'reply-approval-escalated'; decision: ApprovalDecided['decision'] }) =>
      decisionAllowed(context, event, params.gate, params.gate === 'reply-approval' ? TRIAGE_APPROVER_ROLES : TRIAGE_ESCALATION_ROLES) &&
      event.type === 'approval.decided' &&
      event.payload.decision === params.decision &&
      (params.decision !== 'edited' || (event.payload.editedText ?? '').trim() !== ''),
  },
}).createMachine({
  id: 'email-triage',
  initial: 'classifying',
  context: ({ input }) => ({
    // Copied with a spread, never read as `input.x`: XState's pure `transition()` also calls this
    // factory, without input, for a throwaway actor it discards (`getInitialSnapshot`), and an
    // unguarded read threw (caught by XState) on every step: 5 % of a durable step's CPU in
    // `npm run bench`. Every real start passes the input.
    ...inputFields(input),
    classification: null,
    label: null,
    reviewDecision: null,
    routing: null,
    summary: null,
    quarantine: null,
    draft: null,
    replyDecision: null,
    finalReplyBody: null,
    sent: null,
    failure: null,
    cancellation: null,
  }),
  on: {
    // Cancellation is accepted in every state that is not final. Nothing triage does before sending is
    // irreversible, and nothing follows the send, so there is nothing to compensate.
    'workflow.cancel_requested': {
      target: '.cancelled',
      actions: assign({
        cancellation: ({ event }) => ({ reason: event.payload.reason, requestedBy: event.payload.requestedBy.id }),
      }),
    },
    'effect.failed': {
      target: '.failed',
      actions: assign({
        failure: ({ event }) => `${event.payload.kind} ${event.payload.effectId} failed: ${event.payload.reason}`,
      }),
    },
  },
  states: {
    classifying: {
      entry: { type: 'requestEffect', params: ({ context }) => agentTask('classifier', context.email) },
      on: {
        'email.classified': [
          {
            guard: and(['isConfident', 'isSpam']),
            actions: ['recordClassification', assign({ label: 'spam' })],
            target: 'quarantining',
          },
          { guard: 'isConfident', actions: ['recordClassification', assign({ label: 'ham' })], target: 'routing' },
          { actions: 'recordClassification', target: 'humanReview' },
        ],
      },
    },
    humanReview: {
      tags: ['approval'],
      entry: {
        type: 'requestEffect',
        params: ({ context }) => ({
          kind: 'approval.request',
          gateId: triageGateId(context.workflowId, 'classification-review'),
          gate: 'classification-review',
          proposed: { label: context.classification?.label ?? null, confidence: context.classification?.confidence ?? null },
          reason: reviewReason(context),
          allowedRoles: TRIAGE_APPROVER_ROLES,
        }),
      },
      after: { approvalTimeout: 'reviewEscalated' },
      on: { 'approval.decided': reviewDecisionTransitions('classification-review') },
    },
    reviewEscalated: {
      tags: ['approval'],
      entry: {
        type: 'requestEffect',
        params: ({ context }) => ({
          kind: 'approval.request',
          gateId: triageGateId(context.workflowId, 'classification-review-escalated'),
          gate: 'classification-review-escalated',
          proposed: { label: context.classification?.label ?? null, confidence: context.classification?.confidence ?? null },
          reason: `No review within ${Math.round(context.approvalTimeoutMs / 1_000)} s; escalated to an admin. Without a decision within ${Math.round(context.escalationTimeoutMs / 1_000)} s the email is quarantined unreviewed. ${reviewReason(context)}`,
          allowedRoles: TRIAGE_ESCALATION_ROLES,
        }),
      },
      after: {
        // Nothing is acted on without a review: the email is set aside, its label left unset.
        escalationTimeout: {
          target: 'quarantining',
          actions: assign({
            reviewDecision: ({ context }) => ({
              gateId: triageGateId(context.workflowId, 'classification-review-escalated'),
              decision: 'rejected' as const,
              approverId: 'system:deadline',
              comment: 'No review before the escalation deadline; quarantined without a label.',
            }),
          }),
        },
      },
      on: { 'approval.decided': reviewDecisionTransitions('classification-review-escalated') },
    },
    quarantining: {
      entry: {
        type: 'requestEffect',
        params: ({ context }) => ({
          kind: 'agent.task',
          agent: TRIAGE_AGENTS.quarantine.agent,
          task: TRIAGE_AGENTS.quarantine.task,
          input: { email: context.email, classification: context.classification, reviewedBy: context.reviewDecision?.approverId ?? null },
        }),
      },
      on: { 'email.quarantined': { actions: assign({ quarantine: ({ event }) => event.payload }), target: 'quarantined' } },
    },
    routing: {
      entry: { type: 'requestEffect', params: ({ context }) => agentTask('supervisor', context.email) },
      on: {
        'email.routed': [
          { guard: 'routedToSummary', actions: assign({ routing: ({ event }) => event.payload }), target: 'summarising' },
          { actions: assign({ routing: ({ event }) => event.payload }), target: 'drafting' },
        ],
      },
    },
    summarising: {
      entry: { type: 'requestEffect', params: ({ context }) => agentTask('summariser', context.email) },
      on: { 'email.summarised': { actions: assign({ summary: ({ event }) => event.payload }), target: 'summarised' } },
    },
    drafting: {
      entry: { type: 'requestEffect', params: ({ context }) => agentTask('drafter', context.email) },
      on: { 'reply.drafted': { actions: assign({ draft: ({ event }) => event.payload }), target: 'awaitingApproval' } },
    },
    awaitingApproval: {
      tags: ['approval'],
      entry: {
        type: 'requestEffect',
        params: ({ context }) => ({
          kind: 'approval.request',
          gateId: triageGateId(context.workflowId, 'reply-approval'),
          gate: 'reply-approval',
          proposed: context.draft,
          reason: context.draft?.reasoning ?? 'A reply was drafted.',
          allowedRoles: TRIAGE_APPROVER_ROLES,
        }),
      },
      after: { approvalTimeout: 'escalated' },
      on: {
        'approval.decided': replyDecisionTransitions('reply-approval'),
      },
    },
    escalated: {
      tags: ['approval'],
      entry: {
        type: 'requestEffect',
        params: ({ context }) => ({
          kind: 'approval.request',
          gateId: triageGateId(context.workflowId, 'reply-approval-escalated'),
          gate: 'reply-approval-escalated',
          proposed: context.draft,
          reason: `No decision within ${Math.round(context.approvalTimeoutMs / 1_000)} s; escalated to an admin. Without a decision within ${Math.round(context.escalationTimeoutMs / 1_000)} s the reply is rejected automatically. Drafter's reasoning: ${context.draft?.reasoning ?? 'none'}`,
          allowedRoles: TRIAGE_ESCALATION_ROLES,
        }),
      },
      after: {
        escalationTimeout: {
          target: 'rejected',
          actions: assign({
            replyDecision: ({ context }) => ({
              gateId: triageGateId(context.workflowId, 'reply-approval-escalated'),
              decision: 'rejected' as const,
              approverId: 'system:deadline',
              comment: 'No decision before the escalation deadline; rejected automatically.',
            }),
          }),
        },
      },
      on: {
        'approval.decided': replyDecisionTransitions('reply-approval-escalated'),
      },
    },
    sending: {
      entry: {
        type: 'requestEffect',
        params: ({ context }) => ({
          kind: 'reply.send',
          to: context.draft?.to ?? context.email.from,
          subject: context.draft?.subject ?? `Re: ${context.email.subject}`,
          body: context.finalReplyBody ?? '',
          inReplyTo: context.email.messageId === '' ? null : context.email.messageId,
        }),
      },
      on: { 'reply.sent': { actions: assign({ sent: ({ event }) => event.payload }), target: 'sent' } },
    },
    quarantined: { type: 'final' },
    summarised: { type: 'final' },
    sent: { type: 'final' },
    rejected: { type: 'final' },
    failed: { type: 'final' },
    cancelled: { type: 'final' },
  },
});

/** Small facts about a triage snapshot for the read model and the change feed. */
export function emailTriageV3Tags(context: EmailTriageV3Context): Record<string, string> {
  const tags: Record<string, string> = {};
  if (context.classification !== null) {
    tags.classifiedAs = context.classification.label;
    tags.classificationConfidence = context.classification.confidence.toFixed(4);
  }
  if (context.label !== null) tags.label = context.label;
  if (context.routing !== null) tags.route = context.routing.route;
  if (context.reviewDecision !== null) tags.reviewDecision = context.reviewDecision.decision;
  if (context.replyDecision !== null) tags.replyDecision = context.replyDecision.decision;
  const origin = context.email.origin;
  for (const [key, value] of Object.entries(origin)) tags[`origin.${key}`] = value;
  return tags;
}
