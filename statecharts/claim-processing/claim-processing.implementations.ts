import { assign } from 'xstate';
import {
  CLAIM_AGENTS,
  type ApprovalDecided,
  type Claim,
  type ClaimAudited,
  type ClaimClassified,
  type ClaimDecision,
  type ClaimDetails,
  type ClaimExtracted,
  type ClaimLetterGenerated,
  type ClaimNotified,
  type ClaimReviewed,
  type ClaimSeverity,
  type Effect,
  type EffectFailed,
  type ClaimModelUsage,
  type AgentTaskLimits,
  type ModelCallSettings,
  type Role,
  type WorkflowBudgetLimits,
  type WorkflowCancelRequested,
} from '@troupe/contracts';

/**
 * The named pieces of the claim-processing workflow: actions, guards, delays, effect builders and gate
 * texts. Both forms of the workflow use them: the TypeScript machine (`claim-processing.machine.ts`)
 * names them in `setup`, and the declared form (`claim-processing.workflow.yaml`) names them as data and
 * gets them from {@link CLAIM_PROCESSING_REGISTRY} when it is compiled. Pure: no I/O, clocks or randomness.
 */

/** Version of the claim-processing definition, stored with every snapshot (both forms). */
export const CLAIM_PROCESSING_MACHINE_VERSION = '1';

/**
 * The claim workflow's budget per instance (USD, tokens, model calls) and the settings of its agents'
 * models: what both forms declare, the YAML under `budgets` and `models`, the TypeScript machine through
 * {@link claimTaskLimits}. Every agent task carries them and the agents enforce them.
 */
export const CLAIM_PROCESSING_BUDGETS: WorkflowBudgetLimits = { maxCostUsd: 0.05, maxTokens: 20_000, maxModelCalls: 8 };

/** Per reasoning agent: temperature and output token cap (tokens) of its model call (the YAML's `models`). */
export const CLAIM_PROCESSING_MODELS = {
  extractor: { temperature: 0, maxOutputTokens: 600 },
  assessor: { temperature: 0, maxOutputTokens: 300 },
  seniorReviewer: { temperature: 0, maxOutputTokens: 400 },
  letterWriter: { temperature: 0.3, maxOutputTokens: 1_200 },
} satisfies Record<string, ModelCallSettings>;

/** The limits of a claim agent task: the workflow's budget, and the settings of `model` when the task calls one. */
export function claimTaskLimits(model?: keyof typeof CLAIM_PROCESSING_MODELS): AgentTaskLimits {
  return model === undefined ? { budget: CLAIM_PROCESSING_BUDGETS } : { budget: CLAIM_PROCESSING_BUDGETS, model: CLAIM_PROCESSING_MODELS[model] };
}

/** Roles that may decide the claim review gate. */
export const CLAIM_REVIEW_ROLES: Role[] = ['approver', 'admin'];

/**
 * Roles that may decide a review escalated after its deadline: the claims manager. Troupe's auth has no
 * `manager` role; a manager is an operator with `admin`.
 */
export const CLAIM_MANAGER_ROLES: Role[] = ['admin'];

/** The gates of claim processing. */
export type ClaimGate = 'claim-review' | 'claim-review-escalated';

/** Machine input: the claim and the configured review threshold and deadlines. */
export interface ClaimProcessingInput {
  workflowId: string;
  claim: Claim;
  /** Claims of more than this (USD) go to human review whatever their severity. */
  reviewThresholdUsd: number;
  /** How long the review gate waits before it escalates to a manager (ms; 48 h in production). */
  reviewTimeoutMs: number;
  /** How long the escalated gate waits before the claim is referred to the claims committee (ms). */
  escalationTimeoutMs: number;
}

/** A human decision as recorded in context. */
export interface ClaimHumanDecision {
  gateId: string;
  decision: ApprovalDecided['decision'];
  approverId: string;
  comment: string | null;
}

/** The machine's context. */
export interface ClaimProcessingContext {
  workflowId: string;
  claim: Claim;
  reviewThresholdUsd: number;
  reviewTimeoutMs: number;
  escalationTimeoutMs: number;
  details: ClaimDetails | null;
  extractor: string | null;
  classification: ClaimClassified | null;
  seniorReview: ClaimReviewed | null;
  humanDecision: ClaimHumanDecision | null;
  decision: ClaimDecision | null;
  letter: ClaimLetterGenerated | null;
  notification: ClaimNotified | null;
  audit: ClaimAudited | null;
  /** Every model call the claim agents reported, in order (empty with the offline stand-ins). */
  modelUsage: ClaimModelUsage[];
  failure: string | null;
  cancellation: { reason: string; requestedBy: string } | null;
}

/** Events the machine accepts; payloads are validated by the runtime against the contract schemas. */
export type ClaimProcessingEvent =
  | { type: 'claim.extracted'; payload: ClaimExtracted }
  | { type: 'claim.classified'; payload: ClaimClassified }
  | { type: 'claim.reviewed'; payload: ClaimReviewed }
  | { type: 'approval.decided'; payload: ApprovalDecided }
  | { type: 'claim.letter_generated'; payload: ClaimLetterGenerated }
  | { type: 'claim.notified'; payload: ClaimNotified }
  | { type: 'claim.audited'; payload: ClaimAudited }
  | { type: 'effect.failed'; payload: EffectFailed }
  | { type: 'workflow.cancel_requested'; payload: WorkflowCancelRequested };

type Args = { context: ClaimProcessingContext; event: ClaimProcessingEvent };

/** The id of a gate instance: deterministic, so a decision can name it. */
export function claimGateId(workflowId: string, gate: ClaimGate): string {
  return `${workflowId}:${gate}`;
}

/** The initial context from the input. */
export function claimProcessingContext(input: ClaimProcessingInput): ClaimProcessingContext {
  return {
    workflowId: input.workflowId,
    claim: input.claim,
    reviewThresholdUsd: input.reviewThresholdUsd,
    reviewTimeoutMs: input.reviewTimeoutMs,
    escalationTimeoutMs: input.escalationTimeoutMs,
    details: null,
    extractor: null,
    classification: null,
    seniorReview: null,
    humanDecision: null,
    decision: null,
    letter: null,
    notification: null,
    audit: null,
    modelUsage: [],
    failure: null,
    cancellation: null,
  };
}

function agentTask(agent: keyof typeof CLAIM_AGENTS, input: unknown): Effect {
  return { kind: 'agent.task', agent: CLAIM_AGENTS[agent].agent, task: CLAIM_AGENTS[agent].task, input };
}

/** The amount an `edited` decision settles on: its text as a non-negative number of USD, or null. */
export function editedAmountUsd(editedText: string | null): number | null {
  const text = (editedText ?? '').trim().replace(/^\$/, '').replace(/,/g, '');
  if (!/^\d+(\.\d{1,2})?$/.test(text)) return null;
  return Number(text);
}

function claimedAmount(context: ClaimProcessingContext): number {
  return context.details?.amountUsd ?? 0;
}

function usd(amount: number): string {
  return `$${amount.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** Builders of the effects the workflow emits, by name (each returns an {@link Effect}). */
export const claimEffects = {
  requestExtraction: ({ context }: Args): Effect => agentTask('extractor', { claim: context.claim }),
  requestClassification: ({ context }: Args): Effect => agentTask('assessor', { claimId: context.claim.claimId, details: context.details }),
  requestSeniorReview: ({ context }: Args): Effect => agentTask('seniorReviewer', { claimId: context.claim.claimId, details: context.details }),
  requestLetter: ({ context }: Args): Effect => agentTask('letterWriter', { claim: context.claim, details: context.details, decision: context.decision }),
  requestNotification: ({ context }: Args): Effect =>
    agentTask('notifier', {
      claimId: context.claim.claimId,
      to: context.claim.claimant.email,
      subject: context.letter?.subject ?? `Your claim ${context.claim.claimId}`,
      body: context.letter?.body ?? '',
    }),
  requestAudit: ({ context }: Args): Effect =>
    agentTask('auditor', {
      claimId: context.claim.claimId,
      severity: context.classification?.severity ?? null,
      decision: context.decision,
      details: context.details,
      notificationKey: context.notification?.idempotencyKey ?? null,
    }),
};

/** What a gate shows the human, by name: `proposed` (data) and `reason` (text). */
export const claimGateTexts = {
  reviewProposal: ({ context }: Args): unknown => ({
    claimId: context.claim.claimId,
    claimant: context.claim.claimant.name,
    details: context.details,
    severity: context.classification?.severity ?? null,
    proposedAmountUsd: claimedAmount(context),
  }),
  reviewReason: ({ context }: Args): string => reviewReasonText(context),
  escalatedReviewReason: ({ context }: Args): string =>
    `No review within ${Math.round(context.reviewTimeoutMs / 1_000)} s; escalated to a claims manager (admin). ` +
    `Without a decision within ${Math.round(context.escalationTimeoutMs / 1_000)} s the claim is referred to the claims committee. ` +
    reviewReasonText(context),
};

function reviewReasonText(context: ClaimProcessingContext): string {
  return (
    `Severity ${context.classification?.severity ?? 'unknown'} (${context.classification?.reason ?? 'no reason given'}); ` +
    `claimed ${usd(claimedAmount(context))}, review threshold ${usd(context.reviewThresholdUsd)}. ` +
    'Approve to pay the claimed amount, reject to decline, or edit with the amount to pay (USD).'
  );
}

function needsHumanReview(context: ClaimProcessingContext, event: ClaimProcessingEvent): boolean {
  if (event.type !== 'claim.classified') return false;
  return event.payload.severity === 'high' || claimedAmount(context) > context.reviewThresholdUsd;
}

/** Guards by name. */
export const claimGuards = {
  /** High severity, or an amount over the review threshold. */
  needsHumanReview: ({ context, event }: Args) => needsHumanReview(context, event),
  /** The classification has this severity. */
  isSeverity: ({ event }: Args, params: { severity: ClaimSeverity }) => event.type === 'claim.classified' && event.payload.severity === params.severity,
  /**
   * A decision at `gate` by a principal allowed there (approvers and admins; admins only once escalated),
   * with this outcome; an edit must name an amount.
   */
  reviewDecision: ({ context, event }: Args, params: { gate: ClaimGate; decision: ApprovalDecided['decision'] }) => {
    if (event.type !== 'approval.decided') return false;
    const roles = params.gate === 'claim-review' ? CLAIM_REVIEW_ROLES : CLAIM_MANAGER_ROLES;
    return (
      event.payload.gateId === claimGateId(context.workflowId, params.gate) &&
      event.payload.approver.roles.some((role) => roles.includes(role)) &&
      event.payload.decision === params.decision &&
      (params.decision !== 'edited' || editedAmountUsd(event.payload.editedText) !== null)
    );
  },
};

function humanDecision(context: ClaimProcessingContext, event: ClaimProcessingEvent, route: 'human' | 'manager'): ClaimDecision | null {
  if (event.type !== 'approval.decided') return null;
  const { decision, approver, comment, editedText } = event.payload;
  const who = route === 'manager' ? 'manager' : 'reviewer';
  if (decision === 'rejected') {
    return { outcome: 'rejected', approvedAmountUsd: 0, decidedBy: approver.id, route, reason: comment ?? `Declined by the ${who}.` };
  }
  const amount = decision === 'edited' ? (editedAmountUsd(editedText) ?? 0) : claimedAmount(context);
  const reason = decision === 'edited' ? `Approved by the ${who} at an adjusted ${usd(amount)}.` : `Approved by the ${who}.`;
  return { outcome: 'approved', approvedAmountUsd: amount, decidedBy: approver.id, route, reason: comment ?? reason };
}

/** Actions by name (all `assign`). */
function withUsage(context: ClaimProcessingContext, event: ClaimProcessingEvent): ClaimModelUsage[] {
  const usage = 'usage' in event.payload ? event.payload.usage : null;
  return usage === null || usage === undefined ? context.modelUsage : [...context.modelUsage, usage];
}

export const claimActions = {
  recordDetails: assign<ClaimProcessingContext, ClaimProcessingEvent, undefined, ClaimProcessingEvent, never>(({ context, event }: Args) =>
    event.type === 'claim.extracted' ? { details: event.payload.details, extractor: event.payload.extractor, modelUsage: withUsage(context, event) } : {},
  ),
  recordClassification: assign<ClaimProcessingContext, ClaimProcessingEvent, undefined, ClaimProcessingEvent, never>(({ context, event }: Args) =>
    event.type === 'claim.classified' ? { classification: event.payload, modelUsage: withUsage(context, event) } : {},
  ),
  autoApprove: assign<ClaimProcessingContext, ClaimProcessingEvent, undefined, ClaimProcessingEvent, never>({
    decision: ({ context }: Args): ClaimDecision => ({
      outcome: 'approved',
      approvedAmountUsd: claimedAmount(context),
      decidedBy: 'system:auto-approve',
      route: 'auto',
      reason: `Low severity and ${usd(claimedAmount(context))} is within the auto-approval limit of ${usd(context.reviewThresholdUsd)}.`,
    }),
  }),
  recordSeniorReview: assign<ClaimProcessingContext, ClaimProcessingEvent, undefined, ClaimProcessingEvent, never>(({ context, event }: Args) =>
    event.type === 'claim.reviewed'
      ? {
          seniorReview: event.payload,
          modelUsage: withUsage(context, event),
          decision: {
            outcome: event.payload.outcome,
            approvedAmountUsd: event.payload.approvedAmountUsd,
            decidedBy: event.payload.reviewer,
            route: 'senior-agent' as const,
            reason: event.payload.reason,
          },
        }
      : {},
  ),
  recordReviewDecision: assign<ClaimProcessingContext, ClaimProcessingEvent, { route: 'human' | 'manager' }, ClaimProcessingEvent, never>(({ context, event }: Args, params: { route: 'human' | 'manager' }) =>
    event.type === 'approval.decided'
      ? {
          humanDecision: {
            gateId: event.payload.gateId,
            decision: event.payload.decision,
            approverId: event.payload.approver.id,
            comment: event.payload.comment,
          },
          decision: humanDecision(context, event, params.route),
        }
      : {},
  ),
  recordDeadlineReferral: assign<ClaimProcessingContext, ClaimProcessingEvent, undefined, ClaimProcessingEvent, never>({
    decision: ({ context }: Args): ClaimDecision => ({
      outcome: 'referred',
      approvedAmountUsd: 0,
      decidedBy: 'system:deadline',
      route: 'deadline',
      reason: `No decision by a reviewer within ${Math.round(context.reviewTimeoutMs / 1_000)} s nor by a manager within ${Math.round(context.escalationTimeoutMs / 1_000)} s; referred to the claims committee.`,
    }),
  }),
  recordLetter: assign<ClaimProcessingContext, ClaimProcessingEvent, undefined, ClaimProcessingEvent, never>(({ context, event }: Args) =>
    event.type === 'claim.letter_generated' ? { letter: event.payload, modelUsage: withUsage(context, event) } : {},
  ),
  recordNotification: assign<ClaimProcessingContext, ClaimProcessingEvent, undefined, ClaimProcessingEvent, never>({ notification: ({ event }: Args) => (event.type === 'claim.notified' ? event.payload : null) }),
  recordAudit: assign<ClaimProcessingContext, ClaimProcessingEvent, undefined, ClaimProcessingEvent, never>({ audit: ({ event }: Args) => (event.type === 'claim.audited' ? event.payload : null) }),
  recordFailure: assign<ClaimProcessingContext, ClaimProcessingEvent, undefined, ClaimProcessingEvent, never>({
    failure: ({ event }: Args) => (event.type === 'effect.failed' ? `${event.payload.kind} ${event.payload.effectId} failed: ${event.payload.reason}` : null),
  }),
  recordCancellation: assign<ClaimProcessingContext, ClaimProcessingEvent, undefined, ClaimProcessingEvent, never>({
    cancellation: ({ event }: Args) =>
      event.type === 'workflow.cancel_requested' ? { reason: event.payload.reason, requestedBy: event.payload.requestedBy.id } : null,
  }),
};

/** Delays by name, in ms from context. */
export const claimDelays = {
  reviewTimeout: ({ context }: { context: ClaimProcessingContext }) => context.reviewTimeoutMs,
  escalationTimeout: ({ context }: { context: ClaimProcessingContext }) => context.escalationTimeoutMs,
};

/** Small facts about a claim snapshot for the read model and the change feed. */
export function claimProcessingTags(context: ClaimProcessingContext): Record<string, string> {
  const tags: Record<string, string> = { claimId: context.claim.claimId };
  if (context.details !== null) {
    tags.claimType = context.details.claimType;
    tags.amountUsd = context.details.amountUsd.toFixed(2);
  }
  if (context.classification !== null) tags.severity = context.classification.severity;
  if (context.decision !== null) {
    tags.outcome = context.decision.outcome;
    tags.route = context.decision.route;
  }
  if (context.modelUsage.length > 0) {
    tags.modelCalls = String(context.modelUsage.length);
    tags.inputTokens = String(context.modelUsage.reduce((sum, usage) => sum + (usage.inputTokens ?? 0), 0));
    tags.outputTokens = String(context.modelUsage.reduce((sum, usage) => sum + (usage.outputTokens ?? 0), 0));
  }
  for (const [key, value] of Object.entries(context.claim.origin)) tags[`origin.${key}`] = value;
  return tags;
}
