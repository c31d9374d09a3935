import { ModelChain, chainModelsFromEnv, priceTableFromEnv, type NonLlmFallback, type ProviderBreakers } from '@troupe/agent-kit';
import type { AgentsEnvironment } from './config';

/** Builds a model chain of the configured models ending in `fallback` (the agent's non-LLM hop). */
export type ChainFactory = (fallback: NonLlmFallback) => ModelChain;

/**
 * The chains of this process's one-step agents (model classifier, incident diagnoser, claim agents):
 * the configured models (`TROUPE_MODEL_*` → `TROUPE_SECONDARY_MODEL_*`, {@link chainModelsFromEnv}), the
 * agent's non-LLM fallback as the last hop, the process's circuit `breakers`, `TROUPE_MODEL_PRICES` and
 * the `TROUPE_MODEL_TIMEOUT_MS`, `_ATTEMPTS`, `_BREAKER_THRESHOLD` resilience.
 *
 * @throws ModelConfigError when `TROUPE_MODEL_*`, `TROUPE_SECONDARY_MODEL_*` or `TROUPE_MODEL_PRICES` is invalid.
 */
export function configuredChains(env: AgentsEnvironment, processEnv: NodeJS.ProcessEnv, breakers: ProviderBreakers): ChainFactory {
  const models = chainModelsFromEnv(processEnv);
  const prices = priceTableFromEnv(processEnv);
  const resilience = chainResilience(env);
  return (fallback) => new ModelChain({ models, fallback, breakers, prices, resilience });
}

/** The `TROUPE_MODEL_*` resilience settings of the process's chains (per-attempt timeout in ms, attempts per model, breaker threshold). */
export function chainResilience(env: AgentsEnvironment) {
  return { timeoutMs: env.TROUPE_MODEL_TIMEOUT_MS, attemptsPerModel: env.TROUPE_MODEL_ATTEMPTS, breakerThreshold: env.TROUPE_MODEL_BREAKER_THRESHOLD };
}
