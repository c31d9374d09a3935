/**
 * @troupe/telemetry: one OpenTelemetry trace per workflow across every hop, GenAI spans, metrics and
 * structured logs (DESIGN.md "Observability").
 *
 * Start with {@link startTelemetry} in each app's `instrumentation.ts` (imported first; OTLP export
 * only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set). The bus calls {@link withPublishSpan} +
 * {@link injectTraceContext} on publish and {@link withConsumeSpan} on consume, so the W3C trace
 * context rides in NATS headers; libraries wrap their work in {@link withSpan},
 * {@link withModelCallSpan} (GenAI semantic conventions) and {@link withToolSpan}, and record metrics
 * with the `record*` / `observe*` functions. {@link TroupeLogger} is the pino-backed Nest logger
 * carrying `trace_id` and `span_id`. Imports only @troupe/contracts, OpenTelemetry and pino.
 */
export type { Link, Span } from '@opentelemetry/api';
export { TROUPE_ATTRIBUTES, TROUPE_BAGGAGE } from './attributes';
export {
  type MessageHeaders,
  injectTraceContext,
  extractTraceContext,
  currentTraceId,
  currentTraceParent,
  formatTraceParent,
  parseTraceParent,
  traceIdOfHeaders,
  withTraceParent,
  withWorkflowBaggage,
  workflowTypeFromBaggage,
} from './propagation';
export {
  INSTRUMENTATION_SCOPE,
  MESSAGING_SYSTEM_NATS,
  errorTypeOf,
  markSpanFailed,
  markActiveSpanFailed,
  withSpan,
  setSpanAttributes,
  setActiveSpanAttributes,
  type PublishSpanInput,
  subjectTemplate,
  withPublishSpan,
  type ConsumeSpanInput,
  withConsumeSpan,
  describeConsumedEnvelope,
  withToolSpan,
} from './spans';
export {
  type ModelCallAttributes,
  type ModelCall,
  type ModelPrice,
  setModelPrices,
  parseModelPrices,
  genAiProviderName,
  withModelCallSpan,
} from './genai';
export {
  TROUPE_METRICS,
  type ActorCacheSource,
  type ConsumerLagSample,
  recordWorkflowStarted,
  recordWorkflowFinished,
  recordStepDuration,
  recordDeadLetter,
  recordModelUsage,
  recordModelFallback,
  observeActorCache,
  observeConsumerLag,
} from './metrics';
export { type HttpServerInstrumentationOptions, CREDENTIAL_QUERY_PARAMETERS, expressRouteOf, httpServerInstrumentation } from './http';
export { type TelemetryOptions, type TelemetryStatus, type OtlpProtocol, otlpProtocol, startTelemetry, telemetryStatus, describeTelemetry, shutdownTelemetry } from './sdk';
export {
  TEST_TELEMETRY_DIR_ENV,
  type SpanRecord,
  type MetricRecord,
  TestOnlyJsonLinesSpanExporter,
  TestOnlyJsonLinesMetricExporter,
} from './test-file-exporters';
export { TroupeLogger, type TroupeLoggerOptions, type NestLogLevel, nestLogLevel } from './logger';
export { type InMemoryTelemetry, startInMemoryTelemetry } from './in-memory';
