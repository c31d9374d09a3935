import type { ModelCallOptions } from '@troupe/agent-kit';
import type { Email, EmailSummarised, ModelUsage } from '@troupe/contracts';

/** A summary, and the usage of the model call behind it when a model was called (for the workflow's budget). */
export type MeteredSummary = EmailSummarised & { usage?: ModelUsage };

/**
 * Digests a mailing-list message or newsletter. `summarise` answers `email.summarised`'s payload with
 * `summariser` = `name` (for a model chain, the hop that served).
 */
export interface EmailSummariser {
  /** Which summariser this is, e.g. `extractive (non-LLM)`; carried in every summary. */
  readonly name: string;
  /** `options`: per-call model options (a summariser that calls no model ignores them). */
  summarise(email: Email, options?: ModelCallOptions): Promise<MeteredSummary>;
}
