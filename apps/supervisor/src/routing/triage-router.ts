import type { ModelCallOptions } from '@troupe/agent-kit';
import type { Email, EmailRouted, ModelUsage } from '@troupe/contracts';

/** A routing decision, and the usage of the model call behind it when a model was called. */
export type RoutingDecision = EmailRouted & { usage?: ModelUsage };

/**
 * Decides which specialist handles a legitimate email: `summarise` (mailing lists, newsletters, bulk
 * mail) or `draft_reply` (personal or support-like mail). `route` answers the structured decision
 * `{ route, confidence, reason, router }` of `email.routed`, where `confidence` (0–1) is how sure the
 * router is and `router` is `name`. Below the workflow's threshold a human decides. A router over a
 * model chain adds `usage` (tokens, cost), counted in the workflow's budget.
 */
export interface TriageRouter {
  /** Which router this is, e.g. `header-rules (non-LLM)`; carried in every decision. */
  readonly name: string;
  /** `options`: per-call model options (a router that calls no model ignores them). */
  route(email: Email, options?: ModelCallOptions): Promise<RoutingDecision>;
}
