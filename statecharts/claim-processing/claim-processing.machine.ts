import { setup } from 'xstate';
import { withAgentTaskLimits, type Effect } from '@troupe/contracts';
import {
  CLAIM_MANAGER_ROLES,
  CLAIM_REVIEW_ROLES,
  claimActions,
  claimDelays,
  claimEffects,
  claimGateId,
  claimGateTexts,
  claimGuards,
  claimProcessingContext,
  claimTaskLimits,
  type CLAIM_PROCESSING_MODELS,
  type ClaimGate,
  type ClaimProcessingContext,
  type ClaimProcessingEvent,
  type ClaimProcessingInput,
} from './claim-processing.implementations';

/**
 * The claim-processing statechart: one instance per insurance claim.
 *
 * extracting → classifying → (high severity, or amount over the review threshold) → humanReview
 *                          → (medium) → seniorReview
 *                          → (low) auto-approved
 *            → generatingLetter → notifying → auditing → closed
 * humanReview —(review deadline)→ reviewEscalated (managers: admin) —(escalation deadline)→ referred to the
 * claims committee (letter, notify, audit as for any decision).
 * Any effect that fails for good → failed; `workflow.cancel_requested` in any non-final state → cancelled.
 *
 * Pure: it imports only xstate, contract types and the named pieces in `claim-processing.implementations`,
 * which the declared form (`claim-processing.workflow.yaml`) compiles against too. Effects leave as
 * `requestEffect` actions; delays are named and the actor runtime turns them into durable timers. Its
 * agent tasks carry the budget and model settings the YAML declares ({@link claimTaskLimits}).
 */

function approvalRequest(gate: ClaimGate, reason: 'reviewReason' | 'escalatedReviewReason') {
  return (args: { context: ClaimProcessingContext; event: ClaimProcessingEvent }): Effect => ({
    kind: 'approval.request',
    gateId: claimGateId(args.context.workflowId, gate),
    gate,
    proposed: claimGateTexts.reviewProposal(args),
    reason: claimGateTexts[reason](args),
    allowedRoles: gate === 'claim-review' ? CLAIM_REVIEW_ROLES : CLAIM_MANAGER_ROLES,
  });
}

/**
 * An agent task of the workflow with its budget and, for a reasoning agent, its model's settings
 * ({@link claimTaskLimits}): the limits the declared form's compiler attaches from its `budgets` and `models`.
 */
function limitedTask(build: (args: { context: ClaimProcessingContext; event: ClaimProcessingEvent }) => Effect, model?: keyof typeof CLAIM_PROCESSING_MODELS) {
  return (args: { context: ClaimProcessingContext; event: ClaimProcessingEvent }): Effect => withAgentTaskLimits(build(args), claimTaskLimits(model));
}

/** The transitions of a review gate on `approval.decided` (the first gate and the escalated one). */
function reviewTransitions(gate: ClaimGate, route: 'human' | 'manager') {
  return (['approved', 'edited', 'rejected'] as const).map((decision) => ({
    guard: { type: 'reviewDecision' as const, params: { gate, decision } },
    actions: { type: 'recordReviewDecision' as const, params: { route } },
    target: 'generatingLetter',
  }));
}

/** The claim-processing machine definition (pure). */
export const claimProcessingMachine = setup({
  types: {
    context: {} as ClaimProcessingContext,
    events: {} as ClaimProcessingEvent,
    input: {} as ClaimProcessingInput,
  },
  actions: {
    /** Emits an effect. The host collects it from the transition result; it never runs here. */
    requestEffect: (_: unknown, _effect: Effect) => undefined,
    ...claimActions,
  },
  guards: claimGuards,
  delays: claimDelays,
}).createMachine({
  id: 'claim-processing',
  initial: 'extracting',
  context: ({ input }) => claimProcessingContext(input),
  on: {
    'workflow.cancel_requested': { target: '.cancelled', actions: 'recordCancellation' },
    'effect.failed': { target: '.failed', actions: 'recordFailure' },
  },
  states: {
    extracting: {
      entry: { type: 'requestEffect', params: limitedTask(claimEffects.requestExtraction, 'extractor') },
      on: { 'claim.extracted': { target: 'classifying', actions: 'recordDetails' } },
    },
    classifying: {
      entry: { type: 'requestEffect', params: limitedTask(claimEffects.requestClassification, 'assessor') },
      on: {
        'claim.classified': [
          { guard: 'needsHumanReview', target: 'humanReview', actions: 'recordClassification' },
          { guard: { type: 'isSeverity', params: { severity: 'medium' } }, target: 'seniorReview', actions: 'recordClassification' },
          { target: 'generatingLetter', actions: ['recordClassification', 'autoApprove'] },
        ],
      },
    },
    seniorReview: {
      entry: { type: 'requestEffect', params: limitedTask(claimEffects.requestSeniorReview, 'seniorReviewer') },
      on: { 'claim.reviewed': { target: 'generatingLetter', actions: 'recordSeniorReview' } },
    },
    humanReview: {
      tags: ['approval'],
      entry: { type: 'requestEffect', params: approvalRequest('claim-review', 'reviewReason') },
      after: { reviewTimeout: 'reviewEscalated' },
      on: { 'approval.decided': reviewTransitions('claim-review', 'human') },
    },
    reviewEscalated: {
      tags: ['approval'],
      entry: { type: 'requestEffect', params: approvalRequest('claim-review-escalated', 'escalatedReviewReason') },
      after: { escalationTimeout: { target: 'generatingLetter', actions: 'recordDeadlineReferral' } },
      on: { 'approval.decided': reviewTransitions('claim-review-escalated', 'manager') },
    },
    generatingLetter: {
      entry: { type: 'requestEffect', params: limitedTask(claimEffects.requestLetter, 'letterWriter') },
      on: { 'claim.letter_generated': { target: 'notifying', actions: 'recordLetter' } },
    },
    notifying: {
      entry: { type: 'requestEffect', params: limitedTask(claimEffects.requestNotification) },
      on: { 'claim.notified': { target: 'auditing', actions: 'recordNotification' } },
    },
    auditing: {
      entry: { type: 'requestEffect', params: limitedTask(claimEffects.requestAudit) },
      on: { 'claim.audited': { target: 'closed', actions: 'recordAudit' } },
    },
    closed: { type: 'final' },
    failed: { type: 'final' },
    cancelled: { type: 'final' },
  },
});
