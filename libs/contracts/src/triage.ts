import { z } from 'zod';

/** The workflow type of inbox triage. */
export const EMAIL_TRIAGE = 'email-triage';

/** Maximum email text carried in a workflow, in characters (UTF-16 code units). Longer input is rejected, not cut. */
export const MAX_EMAIL_TEXT_CHARS = 400_000;

/** A parsed email as the triage workflow sees it. */
export const Email = z.object({
  messageId: z.string().max(1_000),
  from: z.string().max(1_000),
  to: z.string().max(4_000),
  subject: z.string().max(4_000),
  /** ISO-8601 date of the Date header, or null when missing or unparseable. */
  date: z.string().max(64).nullable(),
  /** Plain-text body (HTML converted to text by the parser). */
  text: z.string().max(MAX_EMAIL_TEXT_CHARS),
  /** Headers that matter to routing (List-Id, List-Unsubscribe, Precedence, …), lower-cased names. */
  headers: z.record(z.string(), z.string().max(4_000)),
  /** Where it came from, e.g. `{ corpus: 'spamassassin', id: '00001' }`. Never carries the label. */
  origin: z.record(z.string(), z.string()).default({}),
});
export type Email = z.infer<typeof Email>;

/** `email.received`: starts an email-triage workflow. */
export const EMAIL_RECEIVED = 'email.received';
export const EmailReceived = z.object({ email: Email });
export type EmailReceived = z.infer<typeof EmailReceived>;

/** Spam or not. */
export const SpamLabel = z.enum(['spam', 'ham']);
export type SpamLabel = z.infer<typeof SpamLabel>;

/** `email.classified`: the classifier agent's answer. `confidence` is P(label | text) in [0, 1]. */
export const EMAIL_CLASSIFIED = 'email.classified';
export const EmailClassified = z.object({
  label: SpamLabel,
  confidence: z.number().min(0).max(1),
  /** Which classifier answered, e.g. `naive-bayes/spamassassin-train-split` or a model id. */
  classifier: z.string().max(256),
});
export type EmailClassified = z.infer<typeof EmailClassified>;

/** Specialists the supervisor can route a legitimate email to. */
export const TriageRoute = z.enum(['summarise', 'draft_reply']);
export type TriageRoute = z.infer<typeof TriageRoute>;

/** `email.routed`: the supervisor's structured decision `{ route, confidence, reason }`. */
export const EMAIL_ROUTED = 'email.routed';
export const EmailRouted = z.object({
  route: TriageRoute,
  confidence: z.number().min(0).max(1),
  reason: z.string().max(4_000),
  router: z.string().max(256),
});
export type EmailRouted = z.infer<typeof EmailRouted>;

/** `email.summarised`: the summariser's digest of a list mail or newsletter. */
export const EMAIL_SUMMARISED = 'email.summarised';
export const EmailSummarised = z.object({ summary: z.string().max(8_000), summariser: z.string().max(256) });
export type EmailSummarised = z.infer<typeof EmailSummarised>;

/** `reply.drafted`: a proposed reply, waiting for a human. */
export const REPLY_DRAFTED = 'reply.drafted';
export const ReplyDrafted = z.object({
  to: z.string().max(1_000),
  subject: z.string().max(1_000),
  body: z.string().max(100_000),
  /** Why the drafter wrote this (shown to the approver). */
  reasoning: z.string().max(4_000),
  drafter: z.string().max(256),
});
export type ReplyDrafted = z.infer<typeof ReplyDrafted>;

/** `reply.sent`: the send effect's recorded result. */
export const REPLY_SENT = 'reply.sent';
export const ReplySent = z.object({
  idempotencyKey: z.string().max(256),
  sentAt: z.iso.datetime({ offset: true }),
  /** False when this key had been sent before and the earlier record was returned instead. */
  firstDelivery: z.boolean(),
});
export type ReplySent = z.infer<typeof ReplySent>;

/** `email.quarantined`: the spam-quarantine agent moved a spam email to quarantine, and why. */
export const EMAIL_QUARANTINED = 'email.quarantined';
export const EmailQuarantined = z.object({
  folder: z.literal('quarantine'),
  reason: z.string().max(4_000),
  /** Messages from the same sender address in the mailbox (the sender's history); null when not looked up. */
  senderMessageCount: z.number().int().nonnegative().nullable(),
  quarantinedBy: z.string().max(256),
});
export type EmailQuarantined = z.infer<typeof EmailQuarantined>;

/** Agent names and tasks of inbox triage. */
export const TRIAGE_AGENTS = {
  classifier: { agent: 'classifier', task: 'email.classify' },
  quarantine: { agent: 'spam-quarantine', task: 'email.quarantine' },
  supervisor: { agent: 'supervisor', task: 'email.route' },
  summariser: { agent: 'summariser', task: 'email.summarise' },
  drafter: { agent: 'drafter', task: 'reply.draft' },
} as const;

/** Input of the classify, route, summarise and draft tasks: the email itself. */
export const EmailTaskInput = z.object({ email: Email });
export type EmailTaskInput = z.infer<typeof EmailTaskInput>;

/** Input of the quarantine task: the email and the classification (or review) that settled on spam. */
export const QuarantineTaskInput = z.object({
  email: Email,
  classification: EmailClassified.nullable(),
  /** Who confirmed the label at human review, when someone did. */
  reviewedBy: z.string().max(256).nullable(),
});
export type QuarantineTaskInput = z.infer<typeof QuarantineTaskInput>;

/** Effect kind of sending a reply. */
export const REPLY_SEND = 'reply.send';

/**
 * The envelope that starts an email-triage workflow: id `<workflowId>:received` (so publishing the same
 * email twice starts one workflow), correlation id = workflow id, no cause.
 */
export function emailReceivedEnvelope(workflowId: string, email: Email, meta: { source: string; occurredAt: string }) {
  return {
    id: `${workflowId}:received`,
    type: EMAIL_RECEIVED,
    workflowId,
    correlationId: workflowId,
    causationId: null,
    occurredAt: meta.occurredAt,
    source: meta.source,
    payload: { email } satisfies EmailReceived,
  };
}
