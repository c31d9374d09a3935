import type { ModelCallOptions } from '@troupe/agent-kit';
import type { Email, ModelUsage, ReplyDrafted } from '@troupe/contracts';
import { firstMailbox } from '@troupe/email-corpus';

/** A draft, and the usage of the model call behind it when a model was called (for the workflow's budget). */
export type MeteredDraft = ReplyDrafted & { usage?: ModelUsage };

/**
 * Proposes a reply to a legitimate email; a human approves, edits or rejects it before anything is sent.
 * `draft` answers `reply.drafted`'s payload with `drafter` = `name` (for a model chain, the hop that served).
 */
export interface ReplyDrafter {
  /** Which drafter this is, e.g. `template (non-LLM)`; carried in every draft. */
  readonly name: string;
  /** `options`: per-call model options (a drafter that calls no model ignores them). */
  draft(email: Email, options?: ModelCallOptions): Promise<MeteredDraft>;
}

/** The longest recipient and subject a draft carries (the `ReplyDrafted` schema's limits). */
const MAX_RECIPIENT_CHARS = 1_000;
const MAX_SUBJECT_CHARS = 1_000;

/**
 * Where a reply goes: the Reply-To header when present, else From (RFC 5322 section 3.6.2). A recipient
 * list too long for the schema is reduced to its first mailbox.
 */
export function replyRecipient(email: Email): string {
  const replyTo = email.headers['reply-to']?.trim() ?? '';
  const recipient = replyTo !== '' ? replyTo : email.from.trim();
  return recipient.length <= MAX_RECIPIENT_CHARS ? recipient : firstMailbox(recipient).slice(0, MAX_RECIPIENT_CHARS);
}

/** The subject of a reply: `Re: <subject>` unless it already starts with `Re:`; `Re: (no subject)` when empty. */
export function replySubject(subject: string): string {
  const trimmed = subject.trim();
  if (trimmed === '') return 'Re: (no subject)';
  const reply = /^re:/i.test(trimmed) ? trimmed : `Re: ${trimmed}`;
  return reply.slice(0, MAX_SUBJECT_CHARS);
}
