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
 * The email-triage statechart: one instance per email.
 *
 * received → classifying → (low confidence → humanReview) → quarantining → quarantined (spam)
 *                                                          → routing → summarising → summarised
 *                                                                    → drafting → awaitingApproval → sending → sent
 *                                                                                                  → rejected
 *                                                      awaitingApproval —(approval deadline)→ escalated (admins only)
 *                                                      escalated —(escalation deadline)→ rejected
 *                 humanReview —(approval deadline)→ reviewEscalated (admins only) —(escalation deadline)→ quarantining (unreviewed)
 *
 * An agent task that fails for good (`effect.failed` in an agent's state: model down past the fallback
 * chain, budget exhausted, invalid output after retries) hands the email to a human at a gate the
 * machine already has, with that gate's deadline and escalation; the failure is kept in `agentFailures`:
 *   classifying, routing, quarantining —(agent failed)→ humanReview: the reviewer decides the label
 *     (after a classifier failure there is no proposal: only an edit "spam"/"ham" moves it); after a
 *     router failure "ham" goes to drafting (the draft is approved by a human before anything is sent);
 *     after a quarantine failure "spam" asks the quarantine agent again. An escalated review that
 *     expires after a quarantine failure ends in failed (the set-aside itself is what failed).
 *   summarising, drafting —(agent failed)→ awaitingApproval with no draft: the human writes the reply
 *     (`edited`, sent as written) or rejects (no reply); `approved` has no draft to send and is refused.
 * A reply send that fails (after the sender's own retries) → failed: the reply was already decided by a
 *   human, and what failed is delivery, not a judgement a gate could make; sending again under a new
 *   effect id (a new idempotency key) could deliver it twice if the first attempt got through, so an
 *   operator looks at the sent-mail ledger instead. Any other effect that fails for good → failed too.
 * `workflow.cancel_requested` in any non-final state → cancelled.
 *
 * Pure: it imports only xstate and contract types. Every effect leaves as a `requestEffect` action whose
 * params are an {@link Effect}; results come back as events. Delays (`after`) are named in `delays`
 * and computed from context; the actor runtime turns them into durable timers.
 */

/** Version of this definition, stored with every snapshot. Bump on any change to states or context. */
export const EMAIL_TRIAGE_MACHINE_VERSION = '4';

/** Roles that may decide the reply gate and the classification review gate. */
export const TRIAGE_APPROVER_ROLES: Role[] = ['approver', 'admin'];

/** Roles that may decide a reply gate escalated after its deadline. */
export const TRIAGE_ESCALATION_ROLES: Role[] = ['admin'];

/** The gates of the triage workflow. */
export type TriageGate = 'classification-review' | 'classification-review-escalated' | 'reply-approval' | 'reply-approval-escalated';

/** Machine input: the email and the configured confidence threshold in [0, 1]. */
export interface EmailTriageInput {
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
export interface RecordedDecision {
  gateId: string;
  decision: ApprovalDecided['decision'];
  approverId: string;
  comment: string | null;
}

/** The triage agents (keys of `TRIAGE_AGENTS`). */
export type TriageAgent = keyof typeof TRIAGE_AGENTS;

/** An agent task that failed for good and was handed to a human instead of failing the workflow. */
export interface AgentFailure {
  /** Which triage agent's task failed. */
  agent: TriageAgent;
  /** The id of the failed effect (the agent task's outbox message id). */
  effectId: string;
  /** The handler's reason, as `effect.failed` carried it. */
  reason: string;
}

/** The machine's context. */
export interface EmailTriageContext {
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
  /** Why the workflow failed, when it did. */
  failure: string | null;
  /** Agent tasks that failed for good, oldest first; the last one is why the current gate was reached (if any). */
  agentFailures: AgentFailure[];
  /** Why and by whom the workflow was cancelled, when it was. */
  cancellation: { reason: string; requestedBy: string } | null;
}

/** Events the machine accepts; `payload` is already validated by the runtime against the contract schema. */
export type EmailTriageEvent =
  | { type: 'email.classified'; payload: EmailClassified }
  | { type: 'email.quarantined'; payload: EmailQuarantined }
  | { type: 'email.routed'; payload: EmailRouted }
  | { type: 'email.summarised'; payload: EmailSummarised }
  | { type: 'reply.drafted'; payload: ReplyDrafted }
  | { type: 'approval.decided'; payload: ApprovalDecided }
  | { type: 'reply.sent'; payload: ReplySent }
  | { type: 'effect.failed'; payload: EffectFailed }
  | { type: 'workflow.cancel_requested'; payload: WorkflowCancelRequested };

/**
 * The id of a gate instance: deterministic, so a decision can name it. `round` is the number of agent
 * failures handed to a human before the gate was entered (`agentFailures.length`): since version 4 an
 * agent failure can open a gate a second time (a router failing after a review), and the new visit
 * must not accept a decision meant for the old one. Round 0 keeps the version-3 form `<id>:<gate>`, so
 * migrated instances keep the ids of their pending gates.
 */
export function triageGateId(workflowId: string, gate: TriageGate, round = 0): string {
  return round === 0 ? `${workflowId}:${gate}` : `${workflowId}:${gate}:${round}`;
}

/** The id of `gate` as entered in `context`'s current round (see {@link triageGateId}). */
function gateIdIn(context: EmailTriageContext, gate: TriageGate): string {
  return triageGateId(context.workflowId, gate, context.agentFailures.length);
}

function agentTask(agent: keyof typeof TRIAGE_AGENTS, email: Email): Effect {
  return { kind: 'agent.task', agent: TRIAGE_AGENTS[agent].agent, task: TRIAGE_AGENTS[agent].task, input: { email } };
}

function decisionAllowed(context: EmailTriageContext, event: EmailTriageEvent, gate: TriageGate, roles: Role[]): boolean {
  if (event.type !== 'approval.decided') return false;
  return event.payload.gateId === gateIdIn(context, gate) && event.payload.approver.roles.some((role) => roles.includes(role));
}

function recordDecision(event: EmailTriageEvent): RecordedDecision | null {
  if (event.type !== 'approval.decided') return null;
  const { gateId, decision, approver, comment } = event.payload;
  return { gateId, decision, approverId: approver.id, comment };
}

function oppositeLabel(label: EmailClassified['label']): EmailClassified['label'] {
  return label === 'spam' ? 'ham' : 'spam';
}

/** The label a review proposes: the one the workflow acted on when there is one, else the classifier's; null when neither exists (the classifier failed). */
function proposedLabel(context: EmailTriageContext): EmailClassified['label'] | null {
  return context.label ?? context.classification?.label ?? null;
}

/**
 * The last agent failure handed to a human, or null. Every agent failure goes straight to a gate, so
 * at a gate entered from one it is that gate's reason; it stays set afterwards (tag `agentFailed`).
 */
function latestAgentFailure(context: EmailTriageContext): AgentFailure | null {
  return context.agentFailures.at(-1) ?? null;
}

/**
 * The label a review decision settles on: `approved` keeps the proposed label (see `proposedLabel`),
 * `rejected` flips it, `edited` names it (`editedText` "spam" or "ham"); null for an edit that names
 * neither, and for an approval or rejection when nothing is proposed (the classifier failed).
 */
export function reviewedLabel(context: EmailTriageContext, event: EmailTriageEvent): EmailClassified['label'] | null {
  if (event.type !== 'approval.decided') return null;
  const proposed = proposedLabel(context);
  if (event.payload.decision === 'approved') return proposed;
  if (event.payload.decision === 'rejected') return proposed === null ? null : oppositeLabel(proposed);
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

/** How an agent failure reads at a gate. */
function failureText(failure: AgentFailure): string {
  return `The ${TRIAGE_AGENTS[failure.agent].agent} agent failed (${TRIAGE_AGENTS[failure.agent].task}, effect ${failure.effectId}): ${failure.reason}.`;
}

/** Why a human is asked to review a classification (shown at both review gates). */
function reviewReason(context: EmailTriageContext): string {
  const failure = latestAgentFailure(context);
  if (failure?.agent === 'classifier') return `${failureText(failure)} There is no classification: edit with "spam" or "ham" to label the email.`;
  const proposed = proposedLabel(context);
  if (failure?.agent === 'supervisor') {
    return `${failureText(failure)} The email is labelled ${proposed ?? 'unknown'}. Approve or edit with "ham" to draft a reply (approved by a human before it is sent), reject or edit with "spam" to quarantine it.`;
  }
  if (failure?.agent === 'quarantine') {
    const how = proposed === null ? 'It has no label: edit with "spam" or "ham".' : `It is labelled ${proposed}: approve to keep the label, reject to flip it, or edit with "spam" or "ham".`;
    return `${failureText(failure)} The email is not quarantined. Decide the label: spam asks the quarantine agent again, ham routes it. ${how}`;
  }
  return (
    `The classifier (${context.classification?.classifier ?? 'unknown'}) is only ` +
    `${Math.round((context.classification?.confidence ?? 0) * 100)}% sure this is ${context.classification?.label ?? 'unknown'}; ` +
    `the threshold is ${Math.round(context.confidenceThreshold * 100)}%. ` +
    'Approve to accept the label, reject to flip it, or edit with "spam" or "ham".'
  );
}

/** Why a human is asked to decide a reply (shown at both reply gates): the drafter's reasoning, or the failure that left no draft. */
function replyReason(context: EmailTriageContext): string {
  if (context.draft !== null) return context.draft.reasoning;
  const failure = latestAgentFailure(context);
  const because = failure === null ? 'No reply was drafted.' : failureText(failure);
  return `${because} No draft to approve: read the email and edit to write the reply (sent as written), or reject to send none.`;
}

/**
 * The transitions of a review gate on `approval.decided`, the same for the first gate and the escalated
 * one: a decision settling on spam quarantines, one settling on ham routes, or drafts a reply when the
 * router is what failed (guards `reviewDecision`, `routerFailed`).
 */
function reviewDecisionTransitions(gate: 'classification-review' | 'classification-review-escalated') {
  return [
    { guard: { type: 'reviewDecision', params: { gate, label: 'spam' } }, actions: 'recordReviewAsSpam', target: 'quarantining' },
    {
      guard: and([{ type: 'reviewDecision', params: { gate, label: 'ham' as const } }, 'routerFailed']),
      actions: 'recordReviewAsHam',
      target: 'drafting',
    },
    { guard: { type: 'reviewDecision', params: { gate, label: 'ham' } }, actions: 'recordReviewAsHam', target: 'routing' },
  ] as const;
}

/**
 * The `effect.failed` transition of an agent's state: the agent task failed for good, so the failure is
 * recorded and the email goes to the human gate `target`. Any other effect kind falls through to the
 * machine-level `effect.failed` (→ failed).
 */
function agentFailedTransition(agent: TriageAgent, target: 'humanReview' | 'awaitingApproval') {
  return { guard: 'agentTaskFailed', actions: { type: 'recordAgentFailure', params: { agent } }, target } as const;
}

/** The fields of `input` the context keeps; none when XState evaluates the factory without input. */
function inputFields(input: EmailTriageInput | undefined): EmailTriageInput {
  if (input === undefined) return {} as EmailTriageInput;
  const { workflowId, email, confidenceThreshold, approvalTimeoutMs, escalationTimeoutMs } = input;
  return { workflowId, email, confidenceThreshold, approvalTimeoutMs, escalationTimeoutMs };
}

/** The email-triage machine definition (pure). */
export const emailTriageMachine = setup({
  types: {
    context: {} as EmailTriageContext,
    events: {} as EmailTriageEvent,
    input: {} as EmailTriageInput,
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
    recordAgentFailure: assign({
      agentFailures: ({ context, event }, params: { agent: TriageAgent }) =>
        event.type === 'effect.failed' ? [...context.agentFailures, { agent: params.agent, effectId: event.payload.effectId, reason: event.payload.reason }] : context.agentFailures,
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
    /** The failed effect is an agent task (what an agent's state waits on). */
    agentTaskFailed: ({ event }) => event.type === 'effect.failed' && event.payload.kind === 'agent.task',
    /** The review was asked for because the router failed. */
    routerFailed: ({ context }) => latestAgentFailure(context)?.agent === 'supervisor',
    /** The review was asked for because the quarantine agent failed. */
    quarantineFailed: ({ context }) => latestAgentFailure(context)?.agent === 'quarantine',
    routedToSummary: ({ event }) => event.type === 'email.routed' && event.payload.route === 'summarise',
    /** A decision at `gate` by a principal allowed there, with this outcome (an edit must carry text; an approval needs a draft). */
    replyDecision: ({ context, event }, params: { gate: 'reply-approval' | 'reply-approval-escalated'; decision: ApprovalDecided['decision'] }) =>
      decisionAllowed(context, event, params.gate, params.gate === 'reply-approval' ? TRIAGE_APPROVER_ROLES : TRIAGE_ESCALATION_ROLES) &&
      event.type === 'approval.decided' &&
      event.payload.decision === params.decision &&
      (params.decision !== 'edited' || (event.payload.editedText ?? '').trim() !== '') &&
      (params.decision !== 'approved' || context.draft !== null),
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
    agentFailures: [],
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
    // What no state handles: a reply send that failed after the sender's retries (see the header), or
    // an effect of another kind. Agent tasks are handled in their states (agentFailedTransition).
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
        'effect.failed': agentFailedTransition('classifier', 'humanReview'),
      },
    },
    humanReview: {
      tags: ['approval'],
      entry: {
        type: 'requestEffect',
        params: ({ context }) => ({
          kind: 'approval.request',
          gateId: gateIdIn(context, 'classification-review'),
          gate: 'classification-review',
          proposed: { label: proposedLabel(context), confidence: context.classification?.confidence ?? null },
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
          gateId: gateIdIn(context, 'classification-review-escalated'),
          gate: 'classification-review-escalated',
          proposed: { label: proposedLabel(context), confidence: context.classification?.confidence ?? null },
          reason: `No review within ${Math.round(context.approvalTimeoutMs / 1_000)} s; escalated to an admin. Without a decision within ${Math.round(context.escalationTimeoutMs / 1_000)} s ${latestAgentFailure(context)?.agent === 'quarantine' ? 'the workflow fails' : 'the email is quarantined unreviewed'}. ${reviewReason(context)}`,
          allowedRoles: TRIAGE_ESCALATION_ROLES,
        }),
      },
      after: {
        escalationTimeout: [
          // The set-aside is what failed: there is nothing left to do without a human.
          {
            guard: 'quarantineFailed',
            target: 'failed',
            actions: assign({
              failure: ({ context }) => `No review before the escalation deadline after the spam-quarantine agent failed: ${latestAgentFailure(context)?.reason ?? 'unknown'}`,
            }),
          },
          // Nothing is acted on without a review: the email is set aside, its label left unset.
          {
            target: 'quarantining',
            actions: assign({
              reviewDecision: ({ context }) => ({
                gateId: gateIdIn(context, 'classification-review-escalated'),
                decision: 'rejected' as const,
                approverId: 'system:deadline',
                comment: 'No review before the escalation deadline; quarantined without a label.',
              }),
            }),
          },
        ],
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
      on: {
        'email.quarantined': { actions: assign({ quarantine: ({ event }) => event.payload }), target: 'quarantined' },
        'effect.failed': agentFailedTransition('quarantine', 'humanReview'),
      },
    },
    routing: {
      entry: { type: 'requestEffect', params: ({ context }) => agentTask('supervisor', context.email) },
      on: {
        'email.routed': [
          { guard: 'routedToSummary', actions: assign({ routing: ({ event }) => event.payload }), target: 'summarising' },
          { actions: assign({ routing: ({ event }) => event.payload }), target: 'drafting' },
        ],
        'effect.failed': agentFailedTransition('supervisor', 'humanReview'),
      },
    },
    summarising: {
      entry: { type: 'requestEffect', params: ({ context }) => agentTask('summariser', context.email) },
      on: {
        'email.summarised': { actions: assign({ summary: ({ event }) => event.payload }), target: 'summarised' },
        'effect.failed': agentFailedTransition('summariser', 'awaitingApproval'),
      },
    },
    drafting: {
      entry: { type: 'requestEffect', params: ({ context }) => agentTask('drafter', context.email) },
      on: {
        'reply.drafted': { actions: assign({ draft: ({ event }) => event.payload }), target: 'awaitingApproval' },
        'effect.failed': agentFailedTransition('drafter', 'awaitingApproval'),
      },
    },
    awaitingApproval: {
      tags: ['approval'],
      entry: {
        type: 'requestEffect',
        params: ({ context }) => ({
          kind: 'approval.request',
          gateId: gateIdIn(context, 'reply-approval'),
          gate: 'reply-approval',
          proposed: context.draft,
          reason: replyReason(context),
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
          gateId: gateIdIn(context, 'reply-approval-escalated'),
          gate: 'reply-approval-escalated',
          proposed: context.draft,
          reason: `No decision within ${Math.round(context.approvalTimeoutMs / 1_000)} s; escalated to an admin. Without a decision within ${Math.round(context.escalationTimeoutMs / 1_000)} s the reply is rejected automatically. ${context.draft === null ? '' : "Drafter's reasoning: "}${replyReason(context)}`,
          allowedRoles: TRIAGE_ESCALATION_ROLES,
        }),
      },
      after: {
        escalationTimeout: {
          target: 'rejected',
          actions: assign({
            replyDecision: ({ context }) => ({
              gateId: gateIdIn(context, 'reply-approval-escalated'),
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
export function emailTriageTags(context: EmailTriageContext): Record<string, string> {
  const tags: Record<string, string> = {};
  if (context.classification !== null) {
    tags.classifiedAs = context.classification.label;
    tags.classificationConfidence = context.classification.confidence.toFixed(4);
  }
  if (context.label !== null) tags.label = context.label;
  if (context.routing !== null) tags.route = context.routing.route;
  if (context.reviewDecision !== null) tags.reviewDecision = context.reviewDecision.decision;
  if (context.replyDecision !== null) tags.replyDecision = context.replyDecision.decision;
  const failure = latestAgentFailure(context);
  if (failure !== null) tags.agentFailed = TRIAGE_AGENTS[failure.agent].agent;
  const origin = context.email.origin;
  for (const [key, value] of Object.entries(origin)) tags[`origin.${key}`] = value;
  return tags;
}
