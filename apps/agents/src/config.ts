import { z } from 'zod';
import { BaseEnvironment, ModelResilienceEnvironment, WorkflowBudgetEnvironment } from '@troupe/contracts';

/** Agents configuration, parsed once at boot (plus the `TROUPE_MODEL_*` keys of agent-kit). */
export const AgentsEnvironment = BaseEnvironment.extend({
  /** `naive-bayes` (default, offline, trained on the corpus's training split) or `model` (the configured LLM). */
  TROUPE_CLASSIFIER: z.enum(['naive-bayes', 'model']).default('naive-bayes'),
  /** Where the trained classifier is cached (default `.troupe/models` under the working directory). */
  TROUPE_MODEL_CACHE_DIR: z.string().min(1).default('.troupe/models'),
  /** Agent tasks handled concurrently per agent (default 16). */
  TROUPE_AGENT_CONCURRENCY: z.coerce.number().int().positive().default(16),
  /**
   * Whether the drafter and the summariser run as ReAct loops (react-loop actors in the orchestrator):
   * `auto` (default) when a model is configured, `always` (even without one: the chain is then only the
   * non-LLM fallback), `never`.
   */
  TROUPE_REACT_LOOP: z.enum(['auto', 'always', 'never']).default('auto'),
  /** Hard limits of one agent run: model calls, tokens (input + output), cost in USD. */
  TROUPE_AGENT_MAX_ITERATIONS: z.coerce.number().int().positive().max(1_000).default(8),
  TROUPE_AGENT_MAX_TOKENS: z.coerce.number().int().positive().default(50_000),
  TROUPE_AGENT_MAX_COST_USD: z.coerce.number().positive().default(0.5),
  /** Hard limits over every model call of one workflow (its runs and one-step calls): tokens and cost in USD. */
  ...WorkflowBudgetEnvironment.shape,
  /** Per model attempt (ms), attempts per model, and consecutive failures that open a provider's circuit (as the supervisor's). */
  ...ModelResilienceEnvironment.shape,
});
export type AgentsEnvironment = z.infer<typeof AgentsEnvironment>;
