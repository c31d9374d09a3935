import { z } from 'zod';

/**
 * Messages of the claim-processing workflow: one workflow per insurance claim.
 *
 * claim.submitted → (claims-extractor) claim.extracted → (claims-assessor) claim.classified →
 * human review gate | (claims-senior-reviewer) claim.reviewed | auto-approve →
 * (claims-letter-writer) claim.letter_generated → (claims-notifier) claim.notified →
 * (claims-auditor) claim.audited.
 *
 * The claims Troupe ships with are synthetic (generated from a fixed seed); no real claims data exists.
 */

/** The workflow type of claim processing. */
export const CLAIM_PROCESSING = 'claim-processing';

/** A claim as submitted: a free-text form the extractor turns into {@link ClaimDetails}. */
export const Claim = z.object({
  /** The claim's reference, e.g. `CLM-2026-00017`. */
  claimId: z.string().min(1).max(64),
  /** Who submitted it (name and email as typed on the form). */
  claimant: z.object({ name: z.string().min(1).max(256), email: z.string().min(3).max(320) }),
  /** The form's text as the claimant wrote it: policy number, dates, amount, what happened. */
  text: z.string().min(1).max(20_000),
  /** Where it came from, e.g. `{ corpus: 'synthetic-claims', seed: '8', index: '3' }`. Never carries the expected outcome. */
  origin: z.record(z.string(), z.string()).default({}),
});
export type Claim = z.infer<typeof Claim>;

/** `claim.submitted`: starts a claim-processing workflow. */
export const CLAIM_SUBMITTED = 'claim.submitted';
export const ClaimSubmitted = z.object({ claim: Claim });
export type ClaimSubmitted = z.infer<typeof ClaimSubmitted>;

/** Kinds of loss a policy covers. */
export const ClaimType = z.enum(['auto', 'property', 'health', 'travel', 'liability']);
export type ClaimType = z.infer<typeof ClaimType>;

/**
 * The structured details the extractor reads from a claim's text (the structured-output schema of the
 * `claim.extract` task). `amountUsd` is the amount claimed in US dollars.
 */
export const ClaimDetails = z.object({
  policyNumber: z.string().min(1).max(64),
  claimType: ClaimType,
  /** ISO-8601 date (YYYY-MM-DD) of the incident. */
  incidentDate: z.iso.date(),
  amountUsd: z.number().nonnegative().max(100_000_000),
  /** Someone was hurt. */
  injuries: z.boolean(),
  /** A police or fire report was filed. */
  policeReport: z.boolean(),
  /** One or two sentences on what happened. */
  description: z.string().min(1).max(2_000),
});
export type ClaimDetails = z.infer<typeof ClaimDetails>;

/** What one model call of a claim agent used; token counts null when the provider did not report them. */
export const ClaimModelUsage = z.object({
  /** `provider/modelId`, as `gen_ai.request.model` and `TROUPE_MODEL_PRICES` name it. */
  model: z.string().max(256),
  inputTokens: z.number().int().nonnegative().nullable(),
  outputTokens: z.number().int().nonnegative().nullable(),
});
export type ClaimModelUsage = z.infer<typeof ClaimModelUsage>;

/** `usage` of an agent's answer: null when no model was called (the offline stand-ins). */
const AnswerUsage = ClaimModelUsage.nullable().default(null);

/** `claim.extracted`: the extractor's answer. */
export const CLAIM_EXTRACTED = 'claim.extracted';
export const ClaimExtracted = z.object({
  details: ClaimDetails,
  /** Which extractor answered, e.g. `offline-rules/claims-extractor` or a model id. */
  extractor: z.string().max(256),
  usage: AnswerUsage,
});
export type ClaimExtracted = z.infer<typeof ClaimExtracted>;

/** Severity of a claim. */
export const ClaimSeverity = z.enum(['low', 'medium', 'high']);
export type ClaimSeverity = z.infer<typeof ClaimSeverity>;

/** `claim.classified`: the assessor's severity and why. */
export const CLAIM_CLASSIFIED = 'claim.classified';
export const ClaimClassified = z.object({
  severity: ClaimSeverity,
  reason: z.string().max(2_000),
  classifier: z.string().max(256),
  usage: AnswerUsage,
});
export type ClaimClassified = z.infer<typeof ClaimClassified>;

/** How a claim was settled. */
export const ClaimOutcome = z.enum(['approved', 'rejected', 'referred']);
export type ClaimOutcome = z.infer<typeof ClaimOutcome>;

/** `claim.reviewed`: the senior reviewer agent's decision on a medium-severity claim. */
export const CLAIM_REVIEWED = 'claim.reviewed';
export const ClaimReviewed = z.object({
  outcome: z.enum(['approved', 'rejected']),
  /** Amount paid, USD; 0 when rejected. */
  approvedAmountUsd: z.number().nonnegative(),
  reason: z.string().max(2_000),
  reviewer: z.string().max(256),
  usage: AnswerUsage,
});
export type ClaimReviewed = z.infer<typeof ClaimReviewed>;

/** `claim.letter_generated`: the response letter to the claimant. */
export const CLAIM_LETTER_GENERATED = 'claim.letter_generated';
export const ClaimLetterGenerated = z.object({
  subject: z.string().min(1).max(1_000),
  body: z.string().min(1).max(50_000),
  writer: z.string().max(256),
  usage: AnswerUsage,
});
export type ClaimLetterGenerated = z.infer<typeof ClaimLetterGenerated>;

/** `claim.notified`: the claimant was notified (recorded in the notification ledger, at most once per key). */
export const CLAIM_NOTIFIED = 'claim.notified';
export const ClaimNotified = z.object({
  idempotencyKey: z.string().max(256),
  notifiedAt: z.iso.datetime({ offset: true }),
  /** False when this key had been notified before and the earlier record was returned. */
  firstDelivery: z.boolean(),
});
export type ClaimNotified = z.infer<typeof ClaimNotified>;

/** `claim.audited`: the audit record was written (at most once per key). */
export const CLAIM_AUDITED = 'claim.audited';
export const ClaimAudited = z.object({
  idempotencyKey: z.string().max(256),
  recordedAt: z.iso.datetime({ offset: true }),
  firstDelivery: z.boolean(),
});
export type ClaimAudited = z.infer<typeof ClaimAudited>;

/** The decision a claim workflow settled on, as the letter, the notification and the audit record carry it. */
export const ClaimDecision = z.object({
  outcome: ClaimOutcome,
  approvedAmountUsd: z.number().nonnegative(),
  /** Who decided: an approver's id, an agent's name, `system:auto-approve` or `system:deadline`. */
  decidedBy: z.string().max(256),
  /** Which path decided: `auto`, `senior-agent`, `human` or `manager`. */
  route: z.enum(['auto', 'senior-agent', 'human', 'manager', 'deadline']),
  reason: z.string().max(4_000),
});
export type ClaimDecision = z.infer<typeof ClaimDecision>;

/** Agent names and tasks of claim processing. Notify and audit run as tasks of record-keeping agents. */
export const CLAIM_AGENTS = {
  extractor: { agent: 'claims-extractor', task: 'claim.extract' },
  assessor: { agent: 'claims-assessor', task: 'claim.classify' },
  seniorReviewer: { agent: 'claims-senior-reviewer', task: 'claim.review' },
  letterWriter: { agent: 'claims-letter-writer', task: 'claim.letter' },
  notifier: { agent: 'claims-notifier', task: 'claim.notify' },
  auditor: { agent: 'claims-auditor', task: 'claim.audit' },
} as const;

/** Input of `claim.extract`. */
export const ClaimExtractInput = z.object({ claim: Claim });
export type ClaimExtractInput = z.infer<typeof ClaimExtractInput>;

/** Input of `claim.classify` and `claim.review`. */
export const ClaimAssessInput = z.object({ claimId: z.string().min(1).max(64), details: ClaimDetails });
export type ClaimAssessInput = z.infer<typeof ClaimAssessInput>;

/** Input of `claim.letter`. */
export const ClaimLetterInput = z.object({ claim: Claim, details: ClaimDetails, decision: ClaimDecision });
export type ClaimLetterInput = z.infer<typeof ClaimLetterInput>;

/** Input of `claim.notify`: where the letter goes. */
export const ClaimNotifyInput = z.object({
  claimId: z.string().min(1).max(64),
  to: z.string().min(3).max(320),
  subject: z.string().min(1).max(1_000),
  body: z.string().min(1).max(50_000),
});
export type ClaimNotifyInput = z.infer<typeof ClaimNotifyInput>;

/** Input of `claim.audit`: what is kept for auditors. */
export const ClaimAuditInput = z.object({
  claimId: z.string().min(1).max(64),
  severity: ClaimSeverity.nullable(),
  decision: ClaimDecision,
  details: ClaimDetails,
  notificationKey: z.string().max(256).nullable(),
});
export type ClaimAuditInput = z.infer<typeof ClaimAuditInput>;

/**
 * The envelope that starts a claim-processing workflow: id `<workflowId>:submitted` (so submitting the
 * same claim twice starts one workflow), correlation id = workflow id, no cause.
 */
export function claimSubmittedEnvelope(workflowId: string, claim: Claim, meta: { source: string; occurredAt: string }) {
  return {
    id: `${workflowId}:submitted`,
    type: CLAIM_SUBMITTED,
    workflowId,
    correlationId: workflowId,
    causationId: null,
    occurredAt: meta.occurredAt,
    source: meta.source,
    payload: { claim } satisfies ClaimSubmitted,
  };
}

/** KV buckets of the claim record-keeping agents; keys are idempotency keys (base64url), written once. */
export const CLAIM_BUCKETS = {
  /** Notifications sent to claimants (recorded, never emailed). */
  notifications: 'troupe_claim_notifications',
  /** Audit records of decided claims. */
  auditRecords: 'troupe_claim_audit_records',
} as const;
