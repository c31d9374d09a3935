import { z } from 'zod';
import { BaseEnvironment } from '@troupe/contracts';

/** Agents configuration, parsed once at boot (plus the `TROUPE_MODEL_*` keys of agent-kit). */
export const AgentsEnvironment = BaseEnvironment.extend({
  /** `naive-bayes` (default, offline, trained on the corpus's training split) or `model` (the configured LLM). */
  TROUPE_CLASSIFIER: z.enum(['naive-bayes', 'model']).default('naive-bayes'),
  /** Where the trained classifier is cached (default `.troupe/models` under the working directory). */
  TROUPE_MODEL_CACHE_DIR: z.string().min(1).default('.troupe/models'),
  /** Agent tasks handled concurrently per agent (default 16). */
  TROUPE_AGENT_CONCURRENCY: z.coerce.number().int().positive().default(16),
});
export type AgentsEnvironment = z.infer<typeof AgentsEnvironment>;
