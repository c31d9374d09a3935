import {
  INVALID_SPAN_CONTEXT,
  ProxyTracerProvider,
  SpanKind,
  SpanStatusCode,
  context,
  isSpanContextValid,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanOptions,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { ATTR_ERROR_TYPE, ERROR_TYPE_VALUE_OTHER } from '@opentelemetry/semantic-conventions';
import {
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_MESSAGING_CONSUMER_GROUP_NAME,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_DESTINATION_TEMPLATE,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  ATTR_MESSAGING_SYSTEM_NAME,
  GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
  MESSAGING_OPERATION_TYPE_VALUE_PROCESS,
  MESSAGING_OPERATION_TYPE_VALUE_SEND,
} from '@opentelemetry/semantic-conventions/incubating';
import { SUBJECT_ROOT, workflowEventSubject } from '@troupe/contracts';
import { TROUPE_ATTRIBUTES } from './attributes';
import { extractTraceContext, type MessageHeaders } from './propagation';

/** Instrumentation scope name of every Troupe span and metric. */
export const INSTRUMENTATION_SCOPE = '@troupe/telemetry';

// A proxy tracer delegates to whatever provider is registered later (a no-op without one); it is
// fetched again only when the global provider is replaced (tests that start and stop an SDK).
let tracerProvider: TracerProvider | null = null;
let cachedTracer: Tracer | null = null;
function tracer(): Tracer {
  const provider = trace.getTracerProvider();
  if (provider !== tracerProvider || cachedTracer === null) {
    tracerProvider = provider;
    cachedTracer = provider.getTracer(INSTRUMENTATION_SCOPE);
  }
  return cachedTracer;
}

/** `messaging.system` value for NATS (the semantic conventions list no constant for it). */
export const MESSAGING_SYSTEM_NATS = 'nats';

/**
 * The `error.type` of an error (OpenTelemetry semantic conventions: low-cardinality and predictable):
 * a Troupe error's stable `code`, else the error's `name` (e.g. `AI_APICallError`), else `_OTHER`.
 */
export function errorTypeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code !== '') return code;
  if (error instanceof Error) return error.name !== '' && error.name !== 'Error' ? error.name : (error.constructor?.name ?? 'Error');
  return ERROR_TYPE_VALUE_OTHER;
}

/** Marks `span` failed by `error`: status ERROR with the message, `error.type`, and the exception event. */
export function markSpanFailed(span: Span, error: unknown): void {
  if (!span.isRecording()) return;
  span.setAttribute(ATTR_ERROR_TYPE, errorTypeOf(error));
  if (error instanceof Error) span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

/** {@link markSpanFailed} on the active span, if any (for a failure handled without a throw). */
export function markActiveSpanFailed(error: unknown): void {
  const span = trace.getActiveSpan();
  if (span !== undefined) markSpanFailed(span, error);
}

// What a ProxyTracerProvider delegates to while no SDK is registered (the API's no-op provider).
const NO_SDK_DELEGATE = new ProxyTracerProvider().getDelegate();
const NON_RECORDING_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** True when no tracer provider is registered, so every span would be a no-op. */
function noTracerRegistered(): boolean {
  const provider = trace.getTracerProvider();
  return provider instanceof ProxyTracerProvider && provider.getDelegate() === NO_SDK_DELEGATE;
}

/**
 * Runs `fn` inside a new active span (child of `parent`, default the active context) and ends it when
 * `fn` settles; a throw marks the span failed (see {@link markSpanFailed}) and is rethrown. With no
 * SDK registered and no trace to pass on, `fn` runs at once with a shared non-recording span (the
 * durable step's hot path pays a few comparisons); with a remote parent the API's no-op span still
 * carries the caller's context through.
 */
export function withSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => Promise<T>, parent: Context = context.active()): Promise<T> {
  if (noTracerRegistered()) {
    const parentSpan = trace.getSpanContext(parent);
    if (parentSpan === undefined || !isSpanContextValid(parentSpan)) return fn(NON_RECORDING_SPAN);
  }
  return tracer().startActiveSpan(name, options, parent, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      markSpanFailed(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** {@link setSpanAttributes} on the active span (for code that runs inside a span it did not start). */
export function setActiveSpanAttributes(attributes: () => Attributes): void {
  const span = trace.getActiveSpan();
  if (span !== undefined) setSpanAttributes(span, attributes);
}

/** Sets `attributes` only when the span records, so attribute objects are not built for a no-op span. */
export function setSpanAttributes(span: Span, attributes: () => Attributes): void {
  if (span.isRecording()) span.setAttributes(attributes());
}

/** What a JetStream publish span describes. */
export interface PublishSpanInput {
  /** The concrete subject, e.g. `troupe.wf.3.triage-1`. */
  subject: string;
  /** The envelope id (also the `Nats-Msg-Id` when deduplicated). */
  messageId: string;
  envelopeType: string;
  workflowId: string;
  /**
   * Spans the publish is caused by outside its own trace, as span links: e.g. the HTTP request whose
   * event continues a workflow's trace (the links `withTraceParent` gives).
   */
  links?: Link[];
}

/**
 * The low-cardinality form of a subject for span names and `messaging.destination.template`: the
 * workflow id and partition tokens replaced by `{workflowId}` and `{partition}`.
 */
export function subjectTemplate(subject: string, workflowId: string): string {
  const untyped = workflowEventSubject(workflowId);
  if (subject === untyped) return `${SUBJECT_ROOT}.wf.{partition}.{workflowId}`;
  if (subject.startsWith(`${untyped}.`)) return `${SUBJECT_ROOT}.wf.{partition}.{workflowId}${subject.slice(untyped.length)}`;
  if (subject.endsWith(`.${workflowId}`)) return `${subject.slice(0, subject.length - workflowId.length)}{workflowId}`;
  return subject;
}

/**
 * Runs a JetStream publish inside a PRODUCER span `send <subject template>` (messaging semantic
 * conventions: `messaging.system` `nats`, `messaging.operation.type` `send`, destination, message id);
 * `fn` receives the span and must inject the active context into the message headers
 * ({@link injectTraceContext}) so the consumer's span continues this one.
 */
export function withPublishSpan<T>(input: PublishSpanInput, fn: (span: Span) => Promise<T>): Promise<T> {
  return withSpan(
    'send',
    { kind: SpanKind.PRODUCER, ...(input.links !== undefined && input.links.length > 0 ? { links: input.links } : {}) },
    (span) => {
      if (span.isRecording()) {
        const template = subjectTemplate(input.subject, input.workflowId);
        span.updateName(`send ${template}`);
        span.setAttributes({
          [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM_NATS,
          [ATTR_MESSAGING_SYSTEM_NAME]: MESSAGING_SYSTEM_NATS,
          [ATTR_MESSAGING_OPERATION_TYPE]: MESSAGING_OPERATION_TYPE_VALUE_SEND,
          [ATTR_MESSAGING_OPERATION_NAME]: 'publish',
          [ATTR_MESSAGING_DESTINATION_NAME]: input.subject,
          [ATTR_MESSAGING_DESTINATION_TEMPLATE]: template,
          [ATTR_MESSAGING_MESSAGE_ID]: input.messageId,
          [TROUPE_ATTRIBUTES.eventType]: input.envelopeType,
          [TROUPE_ATTRIBUTES.workflowId]: input.workflowId,
        });
      }
      return fn(span);
    },
  );
}

/** What a JetStream consume span describes. */
export interface ConsumeSpanInput {
  /** The message's subject. */
  subject: string;
  /** The consumer's filter or handler pattern, e.g. `troupe.wf.*.*` (low cardinality). */
  pattern: string;
  /** The durable consumer's name. */
  consumer: string;
  stream: string;
  deliveryCount: number;
  /** The message headers the producer injected the trace context into. */
  headers: MessageHeaders | undefined;
}

/**
 * Runs the handling of one consumed JetStream message inside a CONSUMER span `process <pattern>`,
 * child of the producer's span whose context the headers carry (so the trace crosses NATS). `fn`
 * receives the span to add the envelope's attributes and the outcome (ack, nak, dead letter).
 */
export function withConsumeSpan<T>(input: ConsumeSpanInput, fn: (span: Span) => Promise<T>): Promise<T> {
  return withSpan(
    'process',
    { kind: SpanKind.CONSUMER },
    (span) => {
      if (span.isRecording()) {
        span.updateName(`process ${input.pattern}`);
        span.setAttributes({
          [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM_NATS,
          [ATTR_MESSAGING_SYSTEM_NAME]: MESSAGING_SYSTEM_NATS,
          [ATTR_MESSAGING_OPERATION_TYPE]: MESSAGING_OPERATION_TYPE_VALUE_PROCESS,
          [ATTR_MESSAGING_OPERATION_NAME]: 'process',
          [ATTR_MESSAGING_DESTINATION_NAME]: input.subject,
          [ATTR_MESSAGING_DESTINATION_TEMPLATE]: input.pattern,
          [ATTR_MESSAGING_CONSUMER_GROUP_NAME]: input.consumer,
          [TROUPE_ATTRIBUTES.stream]: input.stream,
          [TROUPE_ATTRIBUTES.deliveryCount]: input.deliveryCount,
        });
      }
      return fn(span);
    },
    extractTraceContext(input.headers),
  );
}

/** Adds the consumed envelope's id, type and workflow id to a consume span (once the body is decoded). */
export function describeConsumedEnvelope(span: Span, envelope: { id: string; type: string; workflowId: string }): void {
  if (!span.isRecording()) return;
  span.setAttributes({
    [ATTR_MESSAGING_MESSAGE_ID]: envelope.id,
    [TROUPE_ATTRIBUTES.eventType]: envelope.type,
    [TROUPE_ATTRIBUTES.workflowId]: envelope.workflowId,
  });
}

/**
 * Runs one tool call inside an INTERNAL span `execute_tool <name>` (GenAI semantic conventions:
 * `gen_ai.operation.name` `execute_tool`, `gen_ai.tool.name`); a throw marks it failed with `error.type`.
 */
export function withToolSpan<T>(toolName: string, fn: (span: Span) => Promise<T>, attributes: Attributes = {}): Promise<T> {
  return withSpan(`${GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL} ${toolName}`, { kind: SpanKind.INTERNAL }, (span) => {
    setSpanAttributes(span, () => ({
      [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
      [ATTR_GEN_AI_TOOL_NAME]: toolName,
      ...attributes,
    }));
    return fn(span);
  });
}
