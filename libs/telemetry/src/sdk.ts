import path from 'node:path';
import { hostname } from 'node:os';
import { getNumberFromEnv, getStringFromEnv, getStringListFromEnv } from '@opentelemetry/core';
import { OTLPMetricExporter as OTLPGrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as OTLPJsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as OTLPProtobufMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as OTLPGrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK, type NodeSDKConfiguration } from '@opentelemetry/sdk-node';
import { PeriodicExportingMetricReader, type IMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAMESPACE, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { ATTR_SERVICE_INSTANCE_ID } from '@opentelemetry/semantic-conventions';
import { ConfigurationError } from '@troupe/contracts';
import { parseModelPrices, setModelPrices } from './genai';
import { TEST_TELEMETRY_DIR_ENV, TestOnlyJsonLinesMetricExporter, TestOnlyJsonLinesSpanExporter } from './test-file-exporters';

/** Options of {@link startTelemetry}. */
export interface TelemetryOptions {
  /** `service.name` of the process, e.g. `troupe-orchestrator` (`OTEL_SERVICE_NAME` wins when set). */
  serviceName: string;
  /** `service.version` (default: the version in the repository's package.json, 0.1.0). */
  serviceVersion?: string;
  /**
   * Instrumentations of libraries this app wants spans of (default none: Troupe's own spans only), e.g.
   * the gateway's `httpServerInstrumentation()`. Registered before the app loads its modules.
   */
  instrumentations?: NonNullable<NodeSDKConfiguration['instrumentations']>;
}

/** What {@link startTelemetry} set up, for one boot log line. */
export interface TelemetryStatus {
  serviceName: string;
  /** Where traces go: `otlp <endpoint>`, `test file`, or nothing (spans are no-ops). */
  traces: string[];
  metrics: string[];
  disabled: boolean;
}

let sdk: NodeSDK | null = null;
let status: TelemetryStatus | null = null;

function configured(name: string): boolean {
  return (getStringFromEnv(name) ?? '') !== '';
}

function exporterEnabled(listVariable: string): boolean {
  return !(getStringListFromEnv(listVariable) ?? []).includes('none');
}

/** The OTLP transports of the specification's `OTEL_EXPORTER_OTLP_PROTOCOL`. */
export type OtlpProtocol = 'grpc' | 'http/protobuf' | 'http/json';
const OTLP_PROTOCOLS: readonly OtlpProtocol[] = ['grpc', 'http/protobuf', 'http/json'];

/**
 * The OTLP protocol of one signal, as the OpenTelemetry specification's exporter configuration says
 * (https://opentelemetry.io/docs/specs/otel/protocol/exporter/): `OTEL_EXPORTER_OTLP_<SIGNAL>_PROTOCOL`,
 * else `OTEL_EXPORTER_OTLP_PROTOCOL`, else the specification's default `http/protobuf`.
 *
 * @throws ConfigurationError for a value that is not `grpc`, `http/protobuf` or `http/json`.
 */
export function otlpProtocol(signal: 'TRACES' | 'METRICS', env: NodeJS.ProcessEnv = process.env): OtlpProtocol {
  const variable = env[`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`]?.trim() ? `OTEL_EXPORTER_OTLP_${signal}_PROTOCOL` : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const value = env[variable]?.trim() || 'http/protobuf';
  if (!(OTLP_PROTOCOLS as readonly string[]).includes(value)) {
    throw new ConfigurationError([`${variable}=${value} is not an OTLP protocol: use one of ${OTLP_PROTOCOLS.join(', ')}`]);
  }
  return value as OtlpProtocol;
}

function traceExporterFor(protocol: OtlpProtocol): SpanExporter {
  if (protocol === 'grpc') return new OTLPGrpcTraceExporter();
  return protocol === 'http/json' ? new OTLPJsonTraceExporter() : new OTLPProtobufTraceExporter();
}

function metricExporterFor(protocol: OtlpProtocol): PushMetricExporter {
  if (protocol === 'grpc') return new OTLPGrpcMetricExporter();
  return protocol === 'http/json' ? new OTLPJsonMetricExporter() : new OTLPProtobufMetricExporter();
}

/**
 * Starts the OpenTelemetry Node SDK once for this process (later calls return the first status). Call
 * it from the app's `instrumentation.ts`, imported before anything else.
 *
 * - Traces and metrics are exported over OTLP, in the protocol {@link otlpProtocol} reads
 *   (`OTEL_EXPORTER_OTLP_PROTOCOL`, per signal `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` /
 *   `OTEL_EXPORTER_OTLP_METRICS_PROTOCOL`: `http/protobuf` by default, `http/json` or `grpc`), only when
 *   `OTEL_EXPORTER_OTLP_ENDPOINT` (or the signal's `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` /
 *   `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`) is set, and not switched off by `OTEL_TRACES_EXPORTER=none` /
 *   `OTEL_METRICS_EXPORTER=none`. Without them nothing leaves the process: no tracer or meter provider
 *   is registered, so spans and instruments are the API's no-ops (the durable step's hot path pays
 *   nothing), while the W3C propagators still pass a caller's trace context through.
 * - The SDK reads the other standard variables itself: `OTEL_SDK_DISABLED`, `OTEL_SERVICE_NAME`,
 *   `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER(_ARG)`, `OTEL_PROPAGATORS` (default
 *   `tracecontext,baggage`), `OTEL_BSP_*`, `OTEL_EXPORTER_OTLP_HEADERS`/`_TIMEOUT`/`_COMPRESSION`,
 *   `OTEL_LOG_LEVEL`; `OTEL_METRIC_EXPORT_INTERVAL` / `_TIMEOUT` (ms) set the metric export period.
 * - `TROUPE_TEST_TELEMETRY_DIR` (tests only) adds the test-only JSON-lines file exporters.
 * - `TROUPE_MODEL_PRICES` sets the price table of the cost metric (see {@link parseModelPrices}).
 * - `options.instrumentations` are registered even when nothing is exported (their spans are then
 *   the API's no-ops, which still carry a caller's remote context).
 *
 * @throws ConfigurationError when `TROUPE_MODEL_PRICES` or an `OTEL_EXPORTER_OTLP_*PROTOCOL` is malformed.
 */
export function startTelemetry(options: TelemetryOptions): TelemetryStatus {
  if (status !== null) return status;
  setModelPrices(parseModelPrices(process.env.TROUPE_MODEL_PRICES));
  const serviceName = getStringFromEnv('OTEL_SERVICE_NAME') ?? options.serviceName;
  const spanProcessors: SpanProcessor[] = [];
  const metricReaders: IMetricReader[] = [];
  const traces: string[] = [];
  const metrics: string[] = [];
  const exportIntervalMillis = getNumberFromEnv('OTEL_METRIC_EXPORT_INTERVAL');
  const exportTimeoutMillis = getNumberFromEnv('OTEL_METRIC_EXPORT_TIMEOUT');
  const generalEndpoint = getStringFromEnv('OTEL_EXPORTER_OTLP_ENDPOINT');
  if ((configured('OTEL_EXPORTER_OTLP_ENDPOINT') || configured('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT')) && exporterEnabled('OTEL_TRACES_EXPORTER')) {
    const protocol = otlpProtocol('TRACES');
    spanProcessors.push(new BatchSpanProcessor(traceExporterFor(protocol)));
    traces.push(`otlp ${protocol} ${getStringFromEnv('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? generalEndpoint}`);
  }
  if ((configured('OTEL_EXPORTER_OTLP_ENDPOINT') || configured('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT')) && exporterEnabled('OTEL_METRICS_EXPORTER')) {
    // The reader refuses a timeout longer than the interval: a short interval (tests, demos) shortens it.
    const intervalMs = exportIntervalMillis ?? 60_000;
    const protocol = otlpProtocol('METRICS');
    metricReaders.push(
      new PeriodicExportingMetricReader({ exporter: metricExporterFor(protocol), exportIntervalMillis: intervalMs, exportTimeoutMillis: Math.min(exportTimeoutMillis ?? 30_000, intervalMs) }),
    );
    metrics.push(`otlp ${protocol} ${getStringFromEnv('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT') ?? generalEndpoint}`);
  }
  const testDir = getStringFromEnv(TEST_TELEMETRY_DIR_ENV);
  if (testDir !== undefined && testDir !== '') {
    const base = path.join(testDir, `${serviceName}.${process.pid}`);
    spanProcessors.push(new SimpleSpanProcessor(new TestOnlyJsonLinesSpanExporter(`${base}.spans.jsonl`)));
    metricReaders.push(
      new PeriodicExportingMetricReader({
        exporter: new TestOnlyJsonLinesMetricExporter(`${base}.metrics.jsonl`),
        exportIntervalMillis: exportIntervalMillis ?? 1_000,
        exportTimeoutMillis: Math.min(exportTimeoutMillis ?? 1_000, exportIntervalMillis ?? 1_000),
      }),
    );
    traces.push(`test-only file ${base}.spans.jsonl`);
    metrics.push(`test-only file ${base}.metrics.jsonl`);
  }
  sdk = new NodeSDK({
    ...(getStringFromEnv('OTEL_SERVICE_NAME') === undefined ? { serviceName } : {}),
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAMESPACE]: 'troupe',
      [ATTR_SERVICE_VERSION]: options.serviceVersion ?? '0.1.0',
      [ATTR_SERVICE_INSTANCE_ID]: `${hostname()}:${process.pid}`,
    }),
    spanProcessors,
    metricReaders,
    // No log export: logs go to stdout through pino, with trace and span ids (see TroupeLogger).
    logRecordProcessors: [],
    instrumentations: options.instrumentations ?? [],
  });
  sdk.start();
  status = { serviceName, traces, metrics, disabled: process.env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true' };
  return status;
}

/** The status of {@link startTelemetry}, or null when it was not called in this process. */
export function telemetryStatus(): TelemetryStatus | null {
  return status;
}

/** One line for the boot log: where this process's traces and metrics go. */
export function describeTelemetry(current: TelemetryStatus | null = status): string {
  if (current === null) return 'telemetry not started (spans and metrics are no-ops)';
  if (current.disabled) return 'telemetry disabled by OTEL_SDK_DISABLED';
  const where = (list: string[]): string => (list.length === 0 ? 'not exported (no-op)' : list.join(', '));
  return `telemetry ${current.serviceName}: traces ${where(current.traces)}; metrics ${where(current.metrics)}`;
}

/**
 * Flushes and shuts the SDK down (exports what is buffered); a no-op when it was not started. Call it
 * last on shutdown (`shutdownOnSignal` in @troupe/bus does).
 */
export async function shutdownTelemetry(): Promise<void> {
  const running = sdk;
  sdk = null;
  if (running !== null) await running.shutdown();
}
