import { ModelChain, chainModelsFromEnv, modelConfigFromEnv, priceTableFromEnv, resilienceFromEnvironment, type ProviderBreakers } from '@troupe/agent-kit';
import type { SupervisorEnvironment } from '../config';
import { ChainRouter, headerRuleFallback } from './chain-router';
import { HeaderRuleRouter } from './header-rule-router';
import type { TriageRouter } from './triage-router';

/**
 * The supervisor's router from configuration: without `TROUPE_MODEL_*` the header rules; with a model a
 * {@link ChainRouter} (primary → `TROUPE_SECONDARY_MODEL_*` → the header rules as the non-LLM fallback)
 * with `TROUPE_MODEL_PRICES`, the process's circuit `breakers` and the `TROUPE_MODEL_TIMEOUT_MS`,
 * `TROUPE_MODEL_ATTEMPTS`, `TROUPE_MODEL_BREAKER_THRESHOLD` resilience the agents' chains use
 * ({@link resilienceFromEnvironment}).
 *
 * @throws ModelConfigError when `TROUPE_MODEL_*`, `TROUPE_SECONDARY_MODEL_*` or `TROUPE_MODEL_PRICES` is invalid.
 */
export function configuredRouter(env: SupervisorEnvironment, processEnv: NodeJS.ProcessEnv, breakers: ProviderBreakers): TriageRouter {
  const rules = new HeaderRuleRouter();
  if (modelConfigFromEnv(processEnv) === null) return rules;
  return new ChainRouter(
    new ModelChain({
      models: chainModelsFromEnv(processEnv),
      fallback: headerRuleFallback(rules),
      breakers,
      prices: priceTableFromEnv(processEnv),
      resilience: resilienceFromEnvironment(env),
    }),
  );
}
