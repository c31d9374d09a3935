import { ModelChain, ModelFallbackReporter, ProviderBreakers, type ChatLanguageModel, type NonLlmFallback, type ResilienceOptions } from '@troupe/agent-kit';

/**
 * Circuit breakers for a unit spec; their fallback reporter's warnings go to `warnings` when given, else
 * nowhere. `options`: the breaker threshold and half-open delay (ms), the defaults otherwise.
 */
export function specBreakers(options?: Pick<ResilienceOptions, 'breakerThreshold' | 'halfOpenAfterMs'>, warnings?: string[]): ProviderBreakers {
  return new ProviderBreakers(options, new ModelFallbackReporter({ logger: { warn: (line) => warnings?.push(line), log: () => undefined } }));
}

/**
 * The chain of a one-step specialist in a unit spec: `model`, then `fallback` as the non-LLM hop; two
 * attempts per model with 1 ms backoff (no waiting), no prices.
 */
export function specChain(model: ChatLanguageModel, fallback: NonLlmFallback, breakers: ProviderBreakers = specBreakers()): ModelChain {
  return new ModelChain({ models: [model], fallback, breakers, prices: {}, resilience: { attemptsPerModel: 2, initialDelayMs: 1, maxDelayMs: 1 } });
}
