import { Logger } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import { ATTR_GEN_AI_PROVIDER_NAME, ATTR_GEN_AI_REQUEST_MODEL } from '@opentelemetry/semantic-conventions/incubating';
import type { ModelAttemptOutcome } from '@troupe/contracts';
import { TROUPE_ATTRIBUTES, genAiProviderName, recordModelFallback } from '@troupe/telemetry';

/** Span event added to the active span (the `effect …` span of the model call) for each fallback hop. */
export const MODEL_FALLBACK_EVENT = 'troupe.model.fallback';

/** Why a model gave up and the chain moved on: the outcome of its last attempt. */
export type ModelFallbackReason = Exclude<ModelAttemptOutcome, 'ok' | 'fallback'>;

/** One hop of a model chain away from a model that gave up. */
export interface ModelFallback {
  /** The AI SDK provider id of the model that gave up, e.g. `openai.chat` (the breaker's key). */
  provider: string;
  /** Its model id, e.g. `gpt-4o-mini`. */
  model: string;
  reason: ModelFallbackReason;
  /** The hop taken: the next model's `provider/modelId`, `fallback/<name>`, or `none` when nothing is left. */
  to: string;
}

/** What the reporter writes to: a Nest `LoggerService` (pino's {@link TroupeLogger} in the apps). */
export interface FallbackLogger {
  warn(message: string, ...optionalParams: unknown[]): void;
  log(message: string, ...optionalParams: unknown[]): void;
}

/** Options of {@link ModelFallbackReporter}. */
export interface ModelFallbackReporterOptions {
  /** Default: a Nest logger with context `model-chain` (pino JSON lines in the apps). */
  logger?: FallbackLogger;
  /** A fallback already logged is logged again at most this often (ms, default 60,000), with the count of those not logged. */
  logIntervalMs?: number;
  /** Wall clock in ms (default Date.now; injected by tests). */
  clock?: () => number;
}

interface LoggedFallback {
  loggedAt: number;
  breakerEpoch: number;
  suppressed: number;
}

/**
 * Makes every fallback hop of the model chains of one process visible (README "Agents", Resilience):
 *
 * - the counter `troupe.model.fallbacks` by `gen_ai.provider.name`, `gen_ai.request.model`, `error.type`
 *   (the reason) and `troupe.model.fallback.to` (the hop taken), for every hop;
 * - a span event `troupe.model.fallback` with the same attributes on the active span (the effect span
 *   the model call runs in), for every hop;
 * - a warning log line naming provider, model, reason and hop, rate-limited per (provider, model,
 *   reason, hop): logged the first time, again when the provider's circuit has changed state since
 *   (see {@link breakerStateChanged}), else at most once per `logIntervalMs` with the number of hops
 *   not logged in between (`suppressed`), so a dead provider does not flood the log.
 *
 * Circuit state changes themselves are logged once each (opened: warn; half-open, closed: log).
 */
export class ModelFallbackReporter {
  private readonly logger: FallbackLogger;
  private readonly logIntervalMs: number;
  private readonly clock: () => number;
  private readonly logged = new Map<string, LoggedFallback>();
  private readonly epochs = new Map<string, number>();

  constructor(options: ModelFallbackReporterOptions = {}) {
    this.logger = options.logger ?? new Logger('model-chain');
    this.logIntervalMs = options.logIntervalMs ?? 60_000;
    this.clock = options.clock ?? Date.now;
  }

  /** Records one fallback hop: metric and span event always, the log line when not rate-limited. */
  report(fallback: ModelFallback): void {
    const attributes = {
      [ATTR_GEN_AI_PROVIDER_NAME]: genAiProviderName(fallback.provider),
      [ATTR_GEN_AI_REQUEST_MODEL]: fallback.model,
      [ATTR_ERROR_TYPE]: fallback.reason,
      [TROUPE_ATTRIBUTES.modelFallbackTo]: fallback.to,
    };
    recordModelFallback(attributes);
    trace.getActiveSpan()?.addEvent(MODEL_FALLBACK_EVENT, attributes);

    const key = `${fallback.provider}\u0000${fallback.model}\u0000${fallback.reason}\u0000${fallback.to}`;
    const now = this.clock();
    const epoch = this.epochs.get(fallback.provider) ?? 0;
    const previous = this.logged.get(key);
    if (previous !== undefined && previous.breakerEpoch === epoch && now - previous.loggedAt < this.logIntervalMs) {
      previous.suppressed += 1;
      return;
    }
    const suppressed = previous?.suppressed ?? 0;
    this.logged.set(key, { loggedAt: now, breakerEpoch: epoch, suppressed: 0 });
    this.logger.warn(
      `model ${fallback.provider}/${fallback.model} gave up (${fallback.reason}), falling back to ${fallback.to}` +
        (suppressed > 0 ? ` (${suppressed} more like it not logged since the last line)` : ''),
      { provider: genAiProviderName(fallback.provider), model: fallback.model, reason: fallback.reason, to: fallback.to, suppressed },
    );
  }

  /** Notes that `provider`'s circuit changed state (`open`, `half-open`, `closed`), logs it once, and lets its next fallbacks be logged again. */
  breakerStateChanged(provider: string, state: 'open' | 'half-open' | 'closed'): void {
    this.epochs.set(provider, (this.epochs.get(provider) ?? 0) + 1);
    const fields = { provider: genAiProviderName(provider), circuit: state };
    if (state === 'open') this.logger.warn(`circuit of provider ${provider} opened: its calls are skipped until a trial call succeeds`, fields);
    else this.logger.log(`circuit of provider ${provider} is ${state}`, fields);
  }
}
