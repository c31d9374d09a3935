import type { Email, EmailRouted } from '@troupe/contracts';

/**
 * Decides which specialist handles a legitimate email: `summarise` (mailing lists, newsletters, bulk
 * mail) or `draft_reply` (personal or support-like mail). `route` answers the structured decision
 * `{ route, confidence, reason, router }` of `email.routed`, where `confidence` (0–1) is how sure the
 * router is and `router` is `name`. Below the workflow's threshold a human decides.
 */
export interface TriageRouter {
  /** Which router this is, e.g. `header-rules (non-LLM)`; carried in every decision. */
  readonly name: string;
  route(email: Email): Promise<EmailRouted>;
}
