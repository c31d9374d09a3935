import 'reflect-metadata';
import { createRequire } from 'node:module';
import { Controller, ForbiddenException, Get, Module, Post, Sse, UseGuards, type CanActivate, type INestApplication, type MessageEvent } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SpanKind, trace } from '@opentelemetry/api';
import { Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { currentTraceParent, formatTraceParent, startInMemoryTelemetry, withSpan, withTraceParent, type InMemoryTelemetry } from '@troupe/telemetry';
import { gatewayHttpInstrumentation } from './tracing';

const CALLER = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 };
const WORKFLOW = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };

class DenyGuard implements CanActivate {
  canActivate(): boolean {
    throw new ForbiddenException('no');
  }
}

@Controller('things')
class ThingsController {
  /** Declared before `:id`, which would match it too. */
  @Sse('feed')
  feed(): Observable<MessageEvent> {
    return new Observable<MessageEvent>((subscriber) => subscriber.next({ data: 'hello' }));
  }

  /** Like starting a workflow: work done inside the request (a publish) is a child of its span. */
  @Post()
  create() {
    return withSpan('send troupe.wf', {}, async () => ({ traceParent: currentTraceParent() }));
  }

  @Get(':id')
  @UseGuards(DenyGuard)
  one() {
    return {};
  }

  /** Like an operator's decision: continues a stored workflow trace, linked to the request's. */
  @Post(':id/decisions')
  decide() {
    return withTraceParent(formatTraceParent(WORKFLOW), (links) => withSpan('send decision', { links }, async () => ({ traceParent: currentTraceParent() })));
  }
}

@Controller('health')
class HealthController {
  @Get()
  check() {
    return { status: 'ok' };
  }
}

@Module({ controllers: [ThingsController, HealthController] })
class TestModule {}

describe('gateway HTTP server spans (instrumentation-http, in-memory exporter)', () => {
  let telemetry: InMemoryTelemetry;
  let instrumentation: ReturnType<typeof gatewayHttpInstrumentation>;
  let app: INestApplication;
  let url: string;
  const servers = () => telemetry.spans().filter((span) => span.kind === SpanKind.SERVER);

  beforeAll(async () => {
    telemetry = startInMemoryTelemetry();
    instrumentation = gatewayHttpInstrumentation();
    instrumentation.setTracerProvider(trace.getTracerProvider());
    // The instrumentation patches `http` on its next require (in the gateway: when Express loads).
    createRequire(__filename)('node:http');
    app = await NestFactory.create(TestModule, { logger: false, forceCloseConnections: true });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });

  afterAll(async () => {
    await app?.close();
    instrumentation?.disable();
    await telemetry?.stop();
  });

  it("continues the caller's traceparent in a SERVER span named by the route, parent of the handler's spans", async () => {
    const response = await fetch(`${url}/things`, { method: 'POST', headers: { traceparent: formatTraceParent(CALLER) } });
    expect(response.status).toBe(201);
    const body = (await response.json()) as { traceParent: string };
    const span = await vi.waitFor(() => servers().find((candidate) => candidate.name === 'POST /things') ?? Promise.reject(new Error('no span yet')));
    expect(span.spanContext().traceId).toBe(CALLER.traceId);
    expect(span.parentSpanContext?.spanId).toBe(CALLER.spanId);
    expect(span.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/things', 'http.response.status_code': 201, 'url.path': '/things' });
    const child = telemetry.spans().find((candidate) => candidate.name === 'send troupe.wf')!;
    expect(child.parentSpanContext?.spanId).toBe(span.spanContext().spanId);
    expect(body.traceParent).toBe(formatTraceParent(child.spanContext()));
  });

  it('names the route of a response a guard refused, and not of an unknown path', async () => {
    expect((await fetch(`${url}/things/42`)).status).toBe(403);
    expect((await fetch(`${url}/nowhere`)).status).toBe(404);
    const refused = await vi.waitFor(() => servers().find((span) => span.attributes['url.path'] === '/things/42') ?? Promise.reject(new Error('no span yet')));
    expect(refused.name).toBe('GET /things/:id');
    expect(refused.attributes).toMatchObject({ 'http.route': '/things/:id', 'http.response.status_code': 403 });
    const unknown = await vi.waitFor(() => servers().find((span) => span.attributes['url.path'] === '/nowhere') ?? Promise.reject(new Error('no span yet')));
    expect(unknown.name).toBe('GET');
    expect(unknown.attributes['http.route']).toBeUndefined();
  });

  it("joins a stored trace from a request: the publish continues it, the two spans link each other", async () => {
    const response = await fetch(`${url}/things/7/decisions`, { method: 'POST', headers: { traceparent: formatTraceParent(CALLER) } });
    expect(response.status).toBe(201);
    const request = await vi.waitFor(() => servers().find((span) => span.name === 'POST /things/:id/decisions') ?? Promise.reject(new Error('no span yet')));
    const publish = telemetry.spans().find((span) => span.name === 'send decision')!;
    expect(publish.spanContext().traceId).toBe(WORKFLOW.traceId);
    expect(publish.parentSpanContext?.spanId).toBe(WORKFLOW.spanId);
    expect(publish.links.map((link) => link.context.spanId)).toEqual([request.spanContext().spanId]);
    expect(request.spanContext().traceId).toBe(CALLER.traceId);
    expect(request.links.map((link) => link.context.spanId)).toEqual([WORKFLOW.spanId]);
  });

  it('records no span for the ignored paths', async () => {
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect((await fetch(`${url}/health?probe=1`)).status).toBe(200);
    // A later request's span is exported after the health checks ended: none of them was traced.
    expect((await fetch(`${url}/nowhere-after-health`)).status).toBe(404);
    await vi.waitFor(() => servers().find((span) => span.attributes['url.path'] === '/nowhere-after-health') ?? Promise.reject(new Error('no span yet')));
    expect(servers().filter((span) => String(span.attributes['url.path']).startsWith('/health'))).toEqual([]);
  });

  it('keeps a Server-Sent Events request one open span, ended when the client goes away, api_key redacted', async () => {
    const abort = new AbortController();
    const response = await fetch(`${url}/things/feed?api_key=secret-key&since=1`, { signal: abort.signal });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toContain('data: hello');
    expect(servers().some((span) => span.attributes['url.path'] === '/things/feed')).toBe(false);
    abort.abort();
    const span = await vi.waitFor(() => servers().find((candidate) => candidate.attributes['url.path'] === '/things/feed') ?? Promise.reject(new Error('no span yet')));
    expect(span.name).toBe('GET /things/feed');
    expect(span.attributes).toMatchObject({ 'http.route': '/things/feed', 'http.response.status_code': 200, 'url.query': 'api_key=REDACTED&since=1' });
    expect(JSON.stringify(span.attributes)).not.toContain('secret-key');
  });
});
