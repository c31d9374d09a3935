import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-node';

class CollectingMetricReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** What {@link startInMemoryTelemetry} gives a test. */
export interface InMemoryTelemetry {
  /** Spans finished so far, in end order. */
  spans(): ReadableSpan[];
  /** Collects the metrics recorded so far (cumulative). */
  collectMetrics(): Promise<ResourceMetrics>;
  /** Unregisters the providers, context manager and propagator again. */
  stop(): Promise<void>;
}

/**
 * For tests in one process: registers a tracer provider with an in-memory span exporter, the
 * AsyncLocalStorage context manager, the W3C trace-context and baggage propagators, and a meter
 * provider with a reader the test collects from. Call `stop()` after the test.
 */
export function startInMemoryTelemetry(): InMemoryTelemetry {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  tracerProvider.register();
  const reader = new CollectingMetricReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(meterProvider);
  return {
    spans: () => exporter.getFinishedSpans(),
    async collectMetrics() {
      const { resourceMetrics } = await reader.collect();
      return resourceMetrics;
    },
    async stop() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
      metrics.disable();
    },
  };
}
