import { metrics, type Attributes, type Counter, type Histogram, type MeterProvider, type ObservableGauge } from '@opentelemetry/api';
import {
  ATTR_GEN_AI_TOKEN_TYPE,
  GEN_AI_TOKEN_TYPE_VALUE_INPUT,
  GEN_AI_TOKEN_TYPE_VALUE_OUTPUT,
  METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
  METRIC_GEN_AI_CLIENT_TOKEN_USAGE,
  ATTR_MESSAGING_CONSUMER_GROUP_NAME,
} from '@opentelemetry/semantic-conventions/incubating';
import { TROUPE_ATTRIBUTES } from './attributes';
import { INSTRUMENTATION_SCOPE } from './spans';

/** Names of Troupe's own metrics (the GenAI ones use the semantic-convention names). */
export const TROUPE_METRICS = {
  workflowsStarted: 'troupe.workflows.started',
  workflowsCompleted: 'troupe.workflows.completed',
  workflowsFailed: 'troupe.workflows.failed',
  stepDuration: 'troupe.workflow.step.duration',
  actorCacheSize: 'troupe.actor.cache.size',
  consumerLag: 'troupe.consumer.lag',
  deadLetters: 'troupe.dead_letters',
  modelCost: 'troupe.model.cost',
  modelFallbacks: 'troupe.model.fallbacks',
  tokenUsage: METRIC_GEN_AI_CLIENT_TOKEN_USAGE,
  modelCallDuration: METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
} as const;

interface Instruments {
  provider: MeterProvider;
  workflowsStarted: Counter;
  workflowsCompleted: Counter;
  workflowsFailed: Counter;
  stepDuration: Histogram;
  deadLetters: Counter;
  tokenUsage: Histogram;
  modelCallDuration: Histogram;
  modelCost: Counter;
  modelFallbacks: Counter;
  actorCacheSize: ObservableGauge;
  consumerLag: ObservableGauge;
}

/** Something that knows how many actors it holds in memory (an `ActorRuntime`). */
export interface ActorCacheSource {
  readonly cachedActors: number;
}

/** One sample of a consumer's lag: messages in its stream not yet delivered to it (`num_pending`). */
export interface ConsumerLagSample {
  consumer: string;
  stream: string;
  pending: number;
}

const actorCaches = new Set<WeakRef<ActorCacheSource>>();
const lagSources = new Set<WeakRef<{ sampleLag(): Promise<ConsumerLagSample[]> }>>();
let instruments: Instruments | null = null;

/**
 * The instruments on the global meter provider, created on first use and again when the provider
 * changes (the metrics API has no proxy meter: instruments made before the SDK starts stay no-ops).
 */
function current(): Instruments {
  const provider = metrics.getMeterProvider();
  if (instruments !== null && instruments.provider === provider) return instruments;
  const meter = provider.getMeter(INSTRUMENTATION_SCOPE);
  const made: Instruments = {
    provider,
    workflowsStarted: meter.createCounter(TROUPE_METRICS.workflowsStarted, { description: 'Workflow instances started', unit: '{workflow}' }),
    workflowsCompleted: meter.createCounter(TROUPE_METRICS.workflowsCompleted, {
      description: 'Workflow instances that reached a final state other than failed',
      unit: '{workflow}',
    }),
    workflowsFailed: meter.createCounter(TROUPE_METRICS.workflowsFailed, {
      description: 'Workflow instances that ended failed (final state `failed`, or an error status)',
      unit: '{workflow}',
    }),
    stepDuration: meter.createHistogram(TROUPE_METRICS.stepDuration, {
      description: 'Time of one durable step: load, transition, persist, journal and outbox publish',
      unit: 's',
      advice: { explicitBucketBoundaries: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] },
    }),
    deadLetters: meter.createCounter(TROUPE_METRICS.deadLetters, { description: 'Messages given up on and dead-lettered', unit: '{message}' }),
    tokenUsage: meter.createHistogram(TROUPE_METRICS.tokenUsage, {
      description: 'Tokens used per model call (GenAI semantic conventions), by token type, model and workflow type',
      unit: '{token}',
      advice: { explicitBucketBoundaries: [1, 4, 16, 64, 256, 1_024, 4_096, 16_384, 65_536, 262_144, 1_048_576] },
    }),
    modelCallDuration: meter.createHistogram(TROUPE_METRICS.modelCallDuration, {
      description: 'Duration of one model call (GenAI semantic conventions)',
      unit: 's',
      advice: { explicitBucketBoundaries: [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92] },
    }),
    modelCost: meter.createCounter(TROUPE_METRICS.modelCost, {
      description: 'Cost of model calls in US dollars (from TROUPE_MODEL_PRICES), by model and workflow type',
      unit: 'USD',
    }),
    modelFallbacks: meter.createCounter(TROUPE_METRICS.modelFallbacks, {
      description: 'Model chain hops away from a model that gave up (to the next model, the non-LLM fallback, or none), by provider, model and reason',
      unit: '{fallback}',
    }),
    actorCacheSize: meter.createObservableGauge(TROUPE_METRICS.actorCacheSize, { description: 'Workflow actors held in memory', unit: '{actor}' }),
    consumerLag: meter.createObservableGauge(TROUPE_METRICS.consumerLag, {
      description: 'Messages of the stream not yet delivered to the consumer (num_pending of its consumer info), sampled at each collection',
      unit: '{message}',
    }),
  };
  made.actorCacheSize.addCallback((result) => {
    if (actorCaches.size === 0) return;
    let total = 0;
    for (const ref of actorCaches) {
      const source = ref.deref();
      if (source === undefined) actorCaches.delete(ref);
      else total += source.cachedActors;
    }
    result.observe(total);
  });
  made.consumerLag.addCallback(async (result) => {
    const samples = await Promise.all(
      [...lagSources].map(async (ref) => {
        const source = ref.deref();
        if (source === undefined) {
          lagSources.delete(ref);
          return [];
        }
        return source.sampleLag().catch(() => []);
      }),
    );
    for (const sample of samples.flat()) {
      result.observe(sample.pending, { [ATTR_MESSAGING_CONSUMER_GROUP_NAME]: sample.consumer, [TROUPE_ATTRIBUTES.stream]: sample.stream });
    }
  });
  instruments = made;
  return made;
}

/** Counts a workflow instance started (its first event applied). */
export function recordWorkflowStarted(workflowType: string): void {
  current().workflowsStarted.add(1, { [TROUPE_ATTRIBUTES.workflowType]: workflowType });
}

/**
 * Counts a workflow instance that reached a final state: `failed` when that state is named `failed`
 * or the status is `error`, completed otherwise (cancelled, rejected and quarantined included).
 */
export function recordWorkflowFinished(workflowType: string, finalState: string, failed: boolean): void {
  const attributes = { [TROUPE_ATTRIBUTES.workflowType]: workflowType, [TROUPE_ATTRIBUTES.finalState]: finalState };
  if (failed) current().workflowsFailed.add(1, attributes);
  else current().workflowsCompleted.add(1, attributes);
}

/** Records one durable step's duration (seconds) by workflow type, event type and outcome (`applied`, `rejected`, `duplicate`, `error`). */
export function recordStepDuration(seconds: number, attributes: { workflowType: string; eventType: string; outcome: string }): void {
  current().stepDuration.record(seconds, {
    [TROUPE_ATTRIBUTES.workflowType]: attributes.workflowType,
    [TROUPE_ATTRIBUTES.eventType]: attributes.eventType,
    [TROUPE_ATTRIBUTES.outcome]: attributes.outcome,
  });
}

/** Counts one dead letter by the origin (`troupe.dlq.<origin>`) and the error code. */
export function recordDeadLetter(origin: string, errorCode: string): void {
  current().deadLetters.add(1, { [TROUPE_ATTRIBUTES.deadLetterOrigin]: origin, [TROUPE_ATTRIBUTES.errorCode]: errorCode });
}

/**
 * Records one model call's token usage (GenAI `gen_ai.client.token.usage`, per token type), its
 * duration (seconds) and, when known, its cost in USD. `attributes` are the call's GenAI attributes
 * plus `troupe.workflow.type`.
 */
export function recordModelUsage(usage: { inputTokens: number | null; outputTokens: number | null; durationSeconds: number; costUsd: number | null; attributes: Attributes }): void {
  const instrument = current();
  instrument.modelCallDuration.record(usage.durationSeconds, usage.attributes);
  if (usage.inputTokens !== null) instrument.tokenUsage.record(usage.inputTokens, { ...usage.attributes, [ATTR_GEN_AI_TOKEN_TYPE]: GEN_AI_TOKEN_TYPE_VALUE_INPUT });
  if (usage.outputTokens !== null) instrument.tokenUsage.record(usage.outputTokens, { ...usage.attributes, [ATTR_GEN_AI_TOKEN_TYPE]: GEN_AI_TOKEN_TYPE_VALUE_OUTPUT });
  if (usage.costUsd !== null) instrument.modelCost.add(usage.costUsd, usage.attributes);
}

/**
 * Counts one fallback hop of a model chain: `attributes` are `gen_ai.provider.name` and
 * `gen_ai.request.model` of the model that gave up, `error.type` (why: `timeout`, `rate_limited`,
 * `server_error`, `connection_failed`, `malformed_response`, `rejected`, `circuit_open`, `budget_exhausted`: not asked, the workflow's budget is spent) and
 * `troupe.model.fallback.to` (the hop taken).
 */
export function recordModelFallback(attributes: Attributes): void {
  current().modelFallbacks.add(1, attributes);
}

/**
 * Reports `source.cachedActors` as `troupe.actor.cache.size` (summed over sources) at each metric
 * collection, for as long as `source` lives (held weakly).
 */
export function observeActorCache(source: ActorCacheSource): void {
  current();
  actorCaches.add(new WeakRef(source));
}

/**
 * Reports consumer lag samples as `troupe.consumer.lag` at each metric collection (the callback asks
 * the server, so it runs only when a metric reader collects), for as long as `source` lives.
 */
export function observeConsumerLag(source: { sampleLag(): Promise<ConsumerLagSample[]> }): void {
  current();
  lagSources.add(new WeakRef(source));
}
