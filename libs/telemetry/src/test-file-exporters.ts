import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { SpanKind, type Attributes, type HrTime } from '@opentelemetry/api';
import { ExportResultCode, hrTimeToMilliseconds, type ExportResult } from '@opentelemetry/core';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

/**
 * Environment variable that turns on the test-only file exporters: a directory where every process
 * writes its finished spans to `<service>.<pid>.spans.jsonl` and its metrics to
 * `<service>.<pid>.metrics.jsonl`. For end-to-end tests, whose apps run as separate processes, so an
 * in-memory exporter could not be read; never set it in production.
 */
export const TEST_TELEMETRY_DIR_ENV = 'TROUPE_TEST_TELEMETRY_DIR';

/** One finished span as the test-only exporter writes it (one JSON object per line). */
export interface SpanRecord {
  service: string;
  traceId: string;
  spanId: string;
  /** Null for a root span. */
  parentSpanId: string | null;
  name: string;
  kind: 'INTERNAL' | 'SERVER' | 'CLIENT' | 'PRODUCER' | 'CONSUMER';
  startTimeMs: number;
  durationMs: number;
  /** 0 unset, 1 ok, 2 error. */
  status: { code: number; message?: string };
  attributes: Attributes;
  events: Array<{ name: string; attributes?: Attributes }>;
  /** Span links: spans of (usually) other traces this one is related to. */
  links: Array<{ traceId: string; spanId: string }>;
}

/** One metric data point as the test-only exporter writes it. `value` is a number, or a histogram's `{ count, sum, … }`. */
export interface MetricRecord {
  service: string;
  /** When the collection was exported, ms since epoch. */
  exportedAtMs: number;
  name: string;
  unit: string;
  attributes: Attributes;
  value: unknown;
}

function serviceOf(resourceAttributes: Attributes): string {
  return String(resourceAttributes['service.name'] ?? 'unknown_service');
}

/**
 * TEST-ONLY span exporter: appends each finished span as one JSON line to a file (synchronously, so a
 * span is on disk when `end()` returns with a SimpleSpanProcessor). Not for production: no batching,
 * no size limit.
 */
export class TestOnlyJsonLinesSpanExporter implements SpanExporter {
  constructor(private readonly filePath: string) {
    mkdirSync(path.dirname(filePath), { recursive: true });
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    try {
      const lines = spans.map((span) => JSON.stringify(toSpanRecord(span))).join('\n');
      if (lines !== '') appendFileSync(this.filePath, `${lines}\n`);
      resultCallback({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      resultCallback({ code: ExportResultCode.FAILED, error: error as Error });
    }
  }

  async shutdown(): Promise<void> {}

  async forceFlush(): Promise<void> {}
}

/** TEST-ONLY metric exporter: appends every data point of each collection as one JSON line to a file. */
export class TestOnlyJsonLinesMetricExporter implements PushMetricExporter {
  constructor(private readonly filePath: string) {
    mkdirSync(path.dirname(filePath), { recursive: true });
  }

  export(resourceMetrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    try {
      const service = serviceOf(resourceMetrics.resource.attributes);
      const exportedAtMs = Date.now();
      const lines: string[] = [];
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const metric of scope.metrics) {
          for (const point of metric.dataPoints) {
            const record: MetricRecord = { service, exportedAtMs, name: metric.descriptor.name, unit: metric.descriptor.unit, attributes: point.attributes, value: point.value };
            lines.push(JSON.stringify(record));
          }
        }
      }
      if (lines.length > 0) appendFileSync(this.filePath, `${lines.join('\n')}\n`);
      resultCallback({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      resultCallback({ code: ExportResultCode.FAILED, error: error as Error });
    }
  }

  async forceFlush(): Promise<void> {}

  async shutdown(): Promise<void> {}
}

function toSpanRecord(span: ReadableSpan): SpanRecord {
  const spanContext = span.spanContext();
  return {
    service: serviceOf(span.resource.attributes),
    traceId: spanContext.traceId,
    spanId: spanContext.spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? null,
    name: span.name,
    kind: SpanKind[span.kind] as SpanRecord['kind'],
    startTimeMs: hrTimeToMilliseconds(span.startTime as HrTime),
    durationMs: hrTimeToMilliseconds(span.duration as HrTime),
    status: { code: span.status.code, ...(span.status.message !== undefined ? { message: span.status.message } : {}) },
    attributes: span.attributes,
    events: span.events.map((event) => ({ name: event.name, ...(event.attributes !== undefined ? { attributes: event.attributes } : {}) })),
    links: span.links.map((link) => ({ traceId: link.context.traceId, spanId: link.context.spanId })),
  };
}
