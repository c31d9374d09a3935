import type { Email, EmailSummarised } from '@troupe/contracts';

/**
 * Digests a mailing-list message or newsletter. `summarise` answers `email.summarised`'s payload with
 * `summariser` = `name`.
 */
export interface EmailSummariser {
  /** Which summariser this is, e.g. `extractive (non-LLM)`; carried in every summary. */
  readonly name: string;
  summarise(email: Email): Promise<EmailSummarised>;
}
