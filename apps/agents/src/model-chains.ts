import { ModelChain, chainModelsFromEnv, priceTableFromEnv, resilienceFromEnvironment, type NonLlmFallback, type ProviderBreakers } from '@troupe/agent-kit';
import type { AgentsEnvironment } from './config';

/** Builds a model chain of the configured models ending in `fallback` (the agent's non-LLM hop). */
export type ChainFactory = (fallback: NonLlmFallback) => ModelChain;

/**
 * The chains of this process's one-step agents (model classifier, drafter and summariser, incident diagnoser, claim agents):
 * the configured models (`TROUPE_MODEL_*` → `TROUPE_SECONDARY_MODEL_*`, {@link chainModelsFromEnv}), the
 * agent's non-LLM fallback as the last hop, the process's circuit `breakers`, `TROUPE_MODEL_PRICES` and
 * the `TROUPE_MODEL_TIMEOUT_MS`, `_ATTEMPTS`, `_BREAKER_THRESHOLD` resilience.
 *
 * @throws ModelConfigError when `TROUPE_MODEL_*`, `TROUPE_SECONDARY_MODEL_*` or `TROUPE_MODEL_PRICES` is invalid.
 */
export function configuredChains(env: AgentsEnvironment, processEnv: NodeJS.ProcessEnv, breakers: ProviderBreakers): ChainFactory {
  const models = chainModelsFromEnv(processEnv);
  const prices = priceTableFromEnv(processEnv);
  const resilience = resilienceFromEnvironment(env);
  return (fallback) => new ModelChain({ models, fallback, breakers, prices, resilience });
}
