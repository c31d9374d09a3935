import {
  ROOT_CONTEXT,
  context,
  isSpanContextValid,
  propagation,
  trace,
  TraceFlags,
  type Context,
  type Link,
  type SpanContext,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import { TROUPE_BAGGAGE } from './attributes';

/**
 * The part of nats.js `MsgHdrs` the propagation helpers use, so libraries pass message headers without
 * this library depending on `nats`. `get` answers `''` for a missing key, as `MsgHdrs.get` does.
 */
export interface MessageHeaders {
  get(key: string): string;
  set(key: string, value: string): void;
  has(key: string): boolean;
  keys(): string[];
}

const headerSetter: TextMapSetter<MessageHeaders> = {
  set(carrier, key, value) {
    carrier.set(key, value);
  },
};

const headerGetter: TextMapGetter<MessageHeaders | undefined> = {
  keys: (carrier) => carrier?.keys() ?? [],
  get: (carrier, key) => (carrier !== undefined && carrier.has(key) ? carrier.get(key) : undefined),
};

/**
 * Writes the trace context of `ctx` (default: the active one) into NATS message headers with the
 * registered propagator: W3C `traceparent` and `tracestate`, and W3C `baggage`, by default
 * (https://www.w3.org/TR/trace-context/, https://www.w3.org/TR/baggage/). With no OpenTelemetry SDK
 * started, the propagator is a no-op and nothing is written.
 */
export function injectTraceContext(headers: MessageHeaders, ctx: Context = context.active()): void {
  propagation.inject(ctx, headers, headerSetter);
}

/**
 * Reads the trace context (and baggage) a producer wrote into NATS message headers; the result is
 * the parent context for the consumer's span. Missing or malformed headers give the root context.
 */
export function extractTraceContext(headers: MessageHeaders | undefined): Context {
  if (headers === undefined) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, headers, headerGetter);
}

/** The trace id (32 lower-case hex digits) of the active span, or null when there is none or it is invalid. */
export function currentTraceId(ctx: Context = context.active()): string | null {
  const spanContext = trace.getSpanContext(ctx);
  return spanContext !== undefined && isSpanContextValid(spanContext) ? spanContext.traceId : null;
}

/**
 * The W3C `traceparent` of the active span (`00-<trace id>-<span id>-<flags>`), or null without a valid
 * span; stored so a later hop from outside the trace (an operator's decision) can continue it.
 */
export function currentTraceParent(ctx: Context = context.active()): string | null {
  const spanContext = trace.getSpanContext(ctx);
  if (spanContext === undefined || !isSpanContextValid(spanContext)) return null;
  return formatTraceParent(spanContext);
}

/** Formats a span context as a W3C `traceparent` header value (version 00). */
export function formatTraceParent(spanContext: SpanContext): string {
  return `00-${spanContext.traceId}-${spanContext.spanId}-${(spanContext.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

const TRACE_PARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * Parses a W3C `traceparent` value (https://www.w3.org/TR/trace-context/#traceparent-header) into a
 * remote span context; null when it is malformed, of version `ff`, or has an all-zero id.
 */
export function parseTraceParent(value: string | null | undefined): SpanContext | null {
  const match = TRACE_PARENT.exec(value?.trim() ?? '');
  if (match === null || match[1] === 'ff') return null;
  const spanContext: SpanContext = { traceId: match[2], spanId: match[3], traceFlags: parseInt(match[4], 16) & TraceFlags.SAMPLED, isRemote: true };
  return isSpanContextValid(spanContext) ? spanContext : null;
}

/**
 * The trace id carried by NATS message headers (their `traceparent`), read without a propagator, so
 * it works in a process that runs no OpenTelemetry SDK (the demo's change-feed tracker). Null when absent.
 */
export function traceIdOfHeaders(headers: MessageHeaders | undefined): string | null {
  if (headers === undefined || !headers.has('traceparent')) return null;
  return parseTraceParent(headers.get('traceparent'))?.traceId ?? null;
}

/**
 * Runs `fn` as a continuation of the trace of `traceParent` (a stored W3C `traceparent`, see
 * {@link currentTraceParent}): spans `fn` starts are children of that span. With a null or malformed
 * value, `fn` runs in the active context (its spans are children of the active span) and gets no links.
 *
 * When a span of another trace is active (an HTTP request's server span, whose trace is the caller's),
 * the two traces are linked both ways: `fn` receives a span link to the active span, for the spans it
 * starts (e.g. `publishEnvelope`'s `links` option), and the active span gets a link to the
 * `traceParent` span. So an operator's request joins the workflow's trace, one trace per workflow, and
 * either trace leads to the other.
 */
export function withTraceParent<T>(traceParent: string | null | undefined, fn: (links: Link[]) => T): T {
  const spanContext = parseTraceParent(traceParent);
  if (spanContext === null) return fn([]);
  const active = context.active();
  const activeSpan = trace.getSpan(active);
  const activeContext = activeSpan?.spanContext();
  const links: Link[] = [];
  if (activeContext !== undefined && isSpanContextValid(activeContext) && activeContext.traceId !== spanContext.traceId) {
    links.push({ context: activeContext });
    if (activeSpan?.isRecording() === true) activeSpan.addLink({ context: spanContext });
  }
  return context.with(trace.setSpanContext(active, spanContext), () => fn(links));
}

/**
 * Runs `fn` with the workflow's id and type in the W3C baggage, which travels with the trace context
 * in message headers: a hop that only sees an agent task (an agent's model call) still knows the
 * workflow type its tokens and cost are counted for.
 */
export function withWorkflowBaggage<T>(workflow: { workflowId: string; workflowType: string }, fn: () => T): T {
  const active = context.active();
  // Without a trace there is nothing to carry the baggage: skip the allocations on the hot path.
  if (currentTraceId(active) === null) return fn();
  const current = propagation.getBaggage(active) ?? propagation.createBaggage();
  const baggage = current
    .setEntry(TROUPE_BAGGAGE.workflowId, { value: workflow.workflowId })
    .setEntry(TROUPE_BAGGAGE.workflowType, { value: workflow.workflowType });
  return context.with(propagation.setBaggage(active, baggage), fn);
}

/** The workflow type in the active context's baggage (see {@link withWorkflowBaggage}), or null. */
export function workflowTypeFromBaggage(ctx: Context = context.active()): string | null {
  return propagation.getBaggage(ctx)?.getEntry(TROUPE_BAGGAGE.workflowType)?.value ?? null;
}
