import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import { createServer as createHttp2Server, constants as http2 } from 'node:http2';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { otlpProtocol } from './sdk';

const ROOT = path.resolve(__dirname, '../../..');
const FIXTURE = path.join(__dirname, 'fixtures', 'export-one-span.ts');

/** One OTLP request as a collector saw it. */
interface Received {
  path: string;
  contentType: string;
  bytes: number;
}

const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

/** Runs the fixture (startTelemetry, one span, one counter, shutdown) with `env`; resolves with its exit code and output. */
function runFixture(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', path.join(ROOT, 'tools/register.cjs'), FIXTURE], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', OTEL_METRIC_EXPORT_INTERVAL: '60000', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** An OTLP/HTTP collector stand-in: records each request and answers 200 with an empty body. */
async function httpCollector(): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    let bytes = 0;
    request.on('data', (chunk: Buffer) => (bytes += chunk.length));
    request.on('end', () => {
      received.push({ path: request.url ?? '', contentType: request.headers['content-type'] ?? '', bytes });
      const json = (request.headers['content-type'] ?? '').includes('json');
      response.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => server.close());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

/** An OTLP/gRPC collector stand-in over cleartext HTTP/2: records each call and answers grpc-status 0 with an empty message. */
async function grpcCollector(): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createHttp2Server();
  server.on('stream', (stream, headers) => {
    let bytes = 0;
    stream.on('data', (chunk: Buffer) => (bytes += chunk.length));
    stream.on('end', () => {
      received.push({ path: String(headers[http2.HTTP2_HEADER_PATH]), contentType: String(headers[http2.HTTP2_HEADER_CONTENT_TYPE]), bytes });
      stream.respond({ [http2.HTTP2_HEADER_STATUS]: 200, [http2.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      // An empty protobuf message, length-prefixed: not compressed (0), length 0.
      stream.end(Buffer.from([0, 0, 0, 0, 0]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => server.close());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

describe('OTLP export protocol (OTEL_EXPORTER_OTLP_PROTOCOL)', () => {
  it('reads the signal variable first, then the general one, and defaults to http/protobuf', () => {
    expect(otlpProtocol('TRACES', {})).toBe('http/protobuf');
    expect(otlpProtocol('TRACES', { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toBe('grpc');
    expect(otlpProtocol('METRICS', { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json' })).toBe('http/json');
    expect(() => otlpProtocol('TRACES', { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/xml' })).toThrow(/OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http\/xml is not an OTLP protocol/);
  });

  it('exports spans and metrics as protobuf over HTTP by default', async () => {
    const collector = await httpCollector();
    const run = await runFixture({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('otlp http/protobuf');
    expect(collector.received.map((r) => [r.path, r.contentType]).sort()).toEqual([
      ['/v1/metrics', 'application/x-protobuf'],
      ['/v1/traces', 'application/x-protobuf'],
    ]);
    expect(collector.received.every((r) => r.bytes > 0)).toBe(true);
  }, 60_000);

  it('exports JSON over HTTP with http/json', async () => {
    const collector = await httpCollector();
    const run = await runFixture({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    expect(run.code).toBe(0);
    expect(collector.received.map((r) => [r.path, r.contentType]).sort()).toEqual([
      ['/v1/metrics', 'application/json'],
      ['/v1/traces', 'application/json'],
    ]);
  }, 60_000);

  it('exports over gRPC with grpc, to the collector services of the OTLP specification', async () => {
    const collector = await grpcCollector();
    const run = await runFixture({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
    expect(run.code).toBe(0);
    expect(collector.received.map((r) => r.path).sort()).toEqual([
      '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
      '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
    ]);
    expect(collector.received.every((r) => r.contentType.startsWith('application/grpc') && r.bytes > 5)).toBe(true);
  }, 60_000);

  it('refuses to start on a protocol that is not one', async () => {
    const run = await runFixture({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/xml' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/OTEL_EXPORTER_OTLP_PROTOCOL=http\/xml is not an OTLP protocol/);
  }, 60_000);
});
