import {
  BrokenCircuitError,
  CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  DelegateBackoff,
  TimeoutStrategy,
  circuitBreaker,
  handleWhen,
  retry,
  timeout,
} from 'cockatiel';
import type { ModelAttempt, ModelCallSettings, ModelDecision, ModelResilienceEnvironment, ModelUsage, TranscriptMessage } from '@troupe/contracts';
import { AgentKitError } from './errors';
import { modelLabel, type ChatLanguageModel } from './language-model';
import { ModelAttemptError, callModel, classifyModelError, type ModelCallRequest } from './model-call';
import { ModelFallbackReporter, type ModelFallbackReason } from './model-fallbacks';
import { TROUPE_ATTRIBUTES } from '@troupe/telemetry';
import { trace } from '@opentelemetry/api';
import { costOf, type PriceTable } from './pricing';

/** Settings of the resilience around each model (cockatiel policies). Durations in ms. */
export interface ResilienceOptions {
  /** Per attempt (default 30,000). */
  timeoutMs: number;
  /** Attempts per model, the first included (default 3); only transient failures are retried. */
  attemptsPerModel: number;
  /** First backoff (default 500); doubles per retry, with jitter, up to `maxDelayMs` (default 10,000). */
  initialDelayMs: number;
  maxDelayMs: number;
  /** A `Retry-After` longer than this (default 30,000) is not waited for: the chain moves to the next model. */
  maxRetryAfterMs: number;
  /** Consecutive transient failures that open a provider's circuit (default 5). */
  breakerThreshold: number;
  /** How long an open circuit stays open before one trial call (default 30,000). */
  halfOpenAfterMs: number;
}

/** Defaults of {@link ResilienceOptions}. */
export const DEFAULT_RESILIENCE: ResilienceOptions = {
  timeoutMs: 30_000,
  attemptsPerModel: 3,
  initialDelayMs: 500,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 30_000,
  breakerThreshold: 5,
  halfOpenAfterMs: 30_000,
};

/**
 * The resilience of a process's model chains from the `TROUPE_MODEL_TIMEOUT_MS`, `TROUPE_MODEL_ATTEMPTS`
 * and `TROUPE_MODEL_BREAKER_THRESHOLD` settings (`ModelResilienceEnvironment`, the same for the agents and
 * the supervisor), the other options at their {@link DEFAULT_RESILIENCE}. Also what the process's
 * {@link ProviderBreakers} are built with.
 */
export function resilienceFromEnvironment(env: ModelResilienceEnvironment): ResilienceOptions {
  return { ...DEFAULT_RESILIENCE, timeoutMs: env.TROUPE_MODEL_TIMEOUT_MS, attemptsPerModel: env.TROUPE_MODEL_ATTEMPTS, breakerThreshold: env.TROUPE_MODEL_BREAKER_THRESHOLD };
}

const CIRCUIT_STATE_NAMES: Record<CircuitState, 'open' | 'half-open' | 'closed'> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'open',
};

/**
 * One circuit breaker per provider (`model.provider`, e.g. `openai.chat`), shared by every chain of a
 * process: a provider that keeps failing is skipped at once (`circuit_open`) until `halfOpenAfterMs`
 * has passed. Also holds the process's {@link ModelFallbackReporter} (`fallbacks`), told of every
 * breaker state change, so fallback logs are rate-limited per process, not per chain.
 */
export class ProviderBreakers {
  private readonly breakers = new Map<string, CircuitBreakerPolicy>();
  /** Where the chains report their fallback hops (metric, span event, rate-limited warning). */
  readonly fallbacks: ModelFallbackReporter;

  constructor(
    private readonly options: Pick<ResilienceOptions, 'breakerThreshold' | 'halfOpenAfterMs'> = DEFAULT_RESILIENCE,
    fallbacks: ModelFallbackReporter = new ModelFallbackReporter(),
  ) {
    this.fallbacks = fallbacks;
  }

  /** The breaker of `provider` (created closed on first use). */
  of(provider: string): CircuitBreakerPolicy {
    let breaker = this.breakers.get(provider);
    if (breaker === undefined) {
      breaker = circuitBreaker(
        handleWhen((error) => error instanceof ModelAttemptError && error.transient),
        { halfOpenAfter: this.options.halfOpenAfterMs, breaker: new ConsecutiveBreaker(this.options.breakerThreshold) },
      );
      breaker.onStateChange((state) => this.fallbacks.breakerStateChanged(provider, CIRCUIT_STATE_NAMES[state]));
      this.breakers.set(provider, breaker);
    }
    return breaker;
  }
}

/** The last hop of a chain: answers without a language model (naive Bayes, header rules, a template). */
export interface NonLlmFallback {
  /** Shown as `fallback/<name>` in usage and attempts. */
  name: string;
  /** The final answer for the run's task input (it must satisfy the agent's answer schema). */
  answer(input: unknown, transcript: readonly TranscriptMessage[]): Promise<unknown>;
}

/** What {@link ModelChain.call} returns: the decision, the usage of the call that served it, every attempt. */
export interface ModelChainResult {
  decision: ModelDecision;
  usage: ModelUsage;
  attempts: ModelAttempt[];
  /** Why no model was asked (the `budgetExhausted` of the call's options), or null when the models were tried. */
  budgetExhausted: string | null;
}

/** Per-call options of {@link ModelChain.call}. */
export interface ModelCallOptions {
  /**
   * Set (to why, e.g. `workflow wf-1 has spent 200,400 of its 200,000 tokens`) when the workflow the call
   * is made for has spent its budget: no model is called, the non-LLM fallback answers, and the skipped
   * hop is reported like any other fallback with reason `budget_exhausted`.
   */
  budgetExhausted?: string | null;
  /**
   * Temperature and output token cap (tokens) the call's models use instead of the request's (a declared
   * workflow's model settings, carried by its agent task as `limits.model`); unset fields keep the request's.
   */
  model?: ModelCallSettings;
}

/** Every model of a chain failed and there is no non-LLM fallback. `attempts` lists them all. */
export class ModelChainExhaustedError extends AgentKitError {
  readonly attempts: ModelAttempt[];

  constructor(attempts: ModelAttempt[]) {
    const summary = attempts.map((a) => `${a.model}#${a.attempt} ${a.outcome}${a.status === null ? '' : ` ${a.status}`}`).join(', ');
    super('MODEL_CHAIN_EXHAUSTED', `every model failed: ${summary}`, { retryable: false });
    this.attempts = attempts;
  }
}

/** Dependencies of a {@link ModelChain}. */
export interface ModelChainOptions {
  /** Primary first, then the secondary models in order. May be empty (only the fallback answers). */
  models: readonly ChatLanguageModel[];
  fallback: NonLlmFallback | null;
  breakers: ProviderBreakers;
  prices: PriceTable;
  resilience?: Partial<ResilienceOptions>;
  /** Jitter source in [0, 1) (default Math.random; injected by tests). */
  random?: () => number;
  /** Wall clock in ms for latencies (default Date.now). */
  clock?: () => number;
}

/**
 * A fallback chain primary → secondary model(s) → non-LLM fallback (DESIGN.md "Agents"). Each model is
 * called through {@link callModel} inside cockatiel policies: a timeout per attempt, retry with
 * exponential backoff and jitter on transient failures (timeouts, 408/409/429, 5xx, refused connections)
 * that waits at least the provider's `Retry-After`, and the provider's circuit breaker. When a model
 * gives up (retries spent, a non-transient failure, a malformed response, a `Retry-After` beyond
 * `maxRetryAfterMs`, an open circuit) the chain moves to the next hop; every attempt is recorded, and
 * every hop is reported to the breakers' {@link ModelFallbackReporter} (counter
 * `troupe.model.fallbacks`, a `troupe.model.fallback` span event, a rate-limited warning). The active
 * span gets `troupe.model.served_by`, the hop that answered. A call made for a workflow whose budget is
 * spent ({@link ModelCallOptions}) asks no model: the fallback answers, the skip reported as a hop with
 * reason `budget_exhausted`.
 */
export class ModelChain {
  private readonly resilience: ResilienceOptions;
  private readonly random: () => number;
  private readonly clock: () => number;

  constructor(private readonly options: ModelChainOptions) {
    this.resilience = { ...DEFAULT_RESILIENCE, ...options.resilience };
    this.random = options.random ?? Math.random;
    this.clock = options.clock ?? Date.now;
  }

  /** Labels of the hops in order, e.g. `['openai.chat/gpt-4o-mini', 'fallback/template']`. */
  get hops(): string[] {
    return [...this.options.models.map((model) => modelLabel(model)), ...(this.options.fallback === null ? [] : [`fallback/${this.options.fallback.name}`])];
  }

  /** The chain's non-LLM fallback (its last hop), or null. */
  get fallback(): NonLlmFallback | null {
    return this.options.fallback;
  }

  /**
   * Runs one model call over the chain.
   *
   * @param request the call without its model.
   * @param fallbackInput the run's task input, for the non-LLM fallback.
   * @param options `budgetExhausted`: skip the models, the fallback answers; `model`: the temperature and
   *   output token cap to use (see {@link ModelCallOptions}).
   * @throws ModelChainExhaustedError when every hop failed (only without a fallback, or when it threw).
   */
  async call(asked: Omit<ModelCallRequest, 'model' | 'abortSignal'>, fallbackInput: unknown, options: ModelCallOptions = {}): Promise<ModelChainResult> {
    const request = withModelSettings(asked, options.model);
    const attempts: ModelAttempt[] = [];
    const started = this.clock();
    const hops = this.hops;
    const budgetExhausted = options.budgetExhausted ?? null;
    const [primary] = this.options.models;
    if (budgetExhausted !== null && primary !== undefined) {
      // No model is asked: one skipped hop, reported and journaled like a model that gave up.
      attempts.push({ ...this.attempt(0, modelLabel(primary), 1, 'budget_exhausted', started, null), error: budgetExhausted.slice(0, 2_000) });
      this.options.breakers.fallbacks.report({ provider: primary.provider, model: primary.modelId, reason: 'budget_exhausted', to: hops[this.options.models.length] ?? 'none' });
      return this.callFallback(request, fallbackInput, attempts, started, budgetExhausted);
    }
    for (const [hop, model] of this.options.models.entries()) {
      const result = await this.callOneModel(hop, model, request, attempts);
      if (result === null) {
        const last = attempts.at(-1);
        this.options.breakers.fallbacks.report({
          provider: model.provider,
          model: model.modelId,
          reason: (last?.hop === hop ? last.outcome : 'connection_failed') as ModelFallbackReason,
          to: hops[hop + 1] ?? 'none',
        });
      } else {
        servedBy(hops[hop]);
        const { costUsd } = costOf(this.options.prices, result.model, result.inputTokens, result.outputTokens);
        return {
          decision: result.decision,
          usage: { model: result.model, inputTokens: result.inputTokens, outputTokens: result.outputTokens, latencyMs: this.clock() - started, costUsd },
          attempts,
          budgetExhausted: null,
        };
      }
    }
    return this.callFallback(request, fallbackInput, attempts, started, null);
  }

  /** The last hop: the non-LLM fallback answers, or the chain is exhausted. */
  private async callFallback(
    request: Omit<ModelCallRequest, 'model' | 'abortSignal'>,
    fallbackInput: unknown,
    attempts: ModelAttempt[],
    started: number,
    budgetExhausted: string | null,
  ): Promise<ModelChainResult> {
    const fallback = this.options.fallback;
    if (fallback === null) throw new ModelChainExhaustedError(attempts);
    const label = `fallback/${fallback.name}`;
    const fallbackStarted = this.clock();
    try {
      const value = await fallback.answer(fallbackInput, request.transcript);
      attempts.push(this.attempt(this.options.models.length, label, 1, 'fallback', fallbackStarted, null));
      servedBy(label);
      return {
        decision: { kind: 'answer', value, text: JSON.stringify(value) ?? '' },
        usage: { model: label, inputTokens: 0, outputTokens: 0, latencyMs: this.clock() - started, costUsd: 0 },
        attempts,
        budgetExhausted,
      };
    } catch (error) {
      attempts.push({ ...this.attempt(this.options.models.length, label, 1, 'rejected', fallbackStarted, null), error: String((error as Error)?.message ?? error).slice(0, 2_000) });
      throw new ModelChainExhaustedError(attempts);
    }
  }

  /** Calls one model with retries inside its provider's breaker; null when it gave up (recorded in `attempts`). */
  private async callOneModel(
    hop: number,
    model: ChatLanguageModel,
    request: Omit<ModelCallRequest, 'model' | 'abortSignal'>,
    attempts: ModelAttempt[],
  ) {
    const label = modelLabel(model);
    const { timeoutMs, attemptsPerModel, initialDelayMs, maxDelayMs, maxRetryAfterMs } = this.resilience;
    const breaker = this.options.breakers.of(model.provider);
    const perAttempt = timeout(timeoutMs, TimeoutStrategy.Aggressive);
    let attempt = 0;
    const policy = retry(
      handleWhen((error) => error instanceof ModelAttemptError && error.transient && (error.retryAfterMs ?? 0) <= maxRetryAfterMs),
      {
        maxAttempts: Math.max(0, attemptsPerModel - 1),
        backoff: new DelegateBackoff((context) => {
          const exponential = Math.min(maxDelayMs, initialDelayMs * 2 ** (context.attempt - 1));
          // "Equal jitter" (AWS Architecture Blog, "Exponential Backoff And Jitter"): half fixed, half random.
          const jittered = exponential / 2 + (exponential / 2) * this.random();
          const error = 'error' in context.result ? context.result.error : null;
          const retryAfter = error instanceof ModelAttemptError ? (error.retryAfterMs ?? 0) : 0;
          const delay = Math.round(Math.max(jittered, retryAfter));
          const last = attempts.at(-1);
          if (last !== undefined) last.backoffMs = delay;
          return delay;
        }),
      },
    );
    try {
      return await policy.execute(() =>
        breaker.execute(async () => {
          attempt += 1;
          const started = this.clock();
          try {
            const result = await perAttempt.execute(({ signal }) => callModel({ ...request, model, abortSignal: signal }));
            attempts.push(this.attempt(hop, label, attempt, 'ok', started, null));
            return result;
          } catch (error) {
            const failure = classifyModelError(label, error);
            attempts.push({
              ...this.attempt(hop, label, attempt, failure.outcome, started, failure.status),
              retryAfterMs: failure.retryAfterMs,
              error: failure.message.slice(0, 2_000),
            });
            throw failure;
          }
        }),
      );
    } catch (error) {
      if (error instanceof BrokenCircuitError) {
        attempt += 1;
        attempts.push({ ...this.attempt(hop, label, attempt, 'circuit_open', this.clock(), null), error: `circuit of provider ${model.provider} is open` });
      }
      return null;
    }
  }

  private attempt(hop: number, model: string, attempt: number, outcome: ModelAttempt['outcome'], started: number, status: number | null): ModelAttempt {
    return { hop, model, attempt, outcome, status, retryAfterMs: null, latencyMs: Math.max(0, this.clock() - started), backoffMs: null, error: null };
  }
}

/** Marks the active span (the model call's effect span) with the hop that served the call. */
function servedBy(label: string): void {
  trace.getActiveSpan()?.setAttribute(TROUPE_ATTRIBUTES.modelServedBy, label);
}

/** `request` with the set fields of `settings` (temperature, output token cap) instead of its own. */
function withModelSettings<T extends { temperature?: number; maxOutputTokens?: number }>(request: T, settings: ModelCallSettings | undefined): T {
  if (settings === undefined) return request;
  return {
    ...request,
    ...(settings.temperature === undefined ? {} : { temperature: settings.temperature }),
    ...(settings.maxOutputTokens === undefined ? {} : { maxOutputTokens: settings.maxOutputTokens }),
  };
}
