import { Writable } from 'node:stream';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { workflowEventSubject } from '@troupe/contracts';
import { genAiProviderName, parseModelPrices, setModelPrices, withModelCallSpan } from './genai';
import { startInMemoryTelemetry, type InMemoryTelemetry } from './in-memory';
import { TroupeLogger } from './logger';
import {
  currentTraceId,
  extractTraceContext,
  injectTraceContext,
  parseTraceParent,
  traceIdOfHeaders,
  withTraceParent,
  withWorkflowBaggage,
  workflowTypeFromBaggage,
  type MessageHeaders,
} from './propagation';
import { errorTypeOf, subjectTemplate, withConsumeSpan, withPublishSpan, withSpan, withToolSpan } from './spans';

class FakeHeaders implements MessageHeaders {
  readonly map = new Map<string, string>();
  get(key: string): string {
    return this.map.get(key) ?? '';
  }
  set(key: string, value: string): void {
    this.map.set(key, value);
  }
  has(key: string): boolean {
    return this.map.has(key);
  }
  keys(): string[] {
    return [...this.map.keys()];
  }
}

function dataPoints(metrics: ResourceMetrics, name: string) {
  return metrics.scopeMetrics.flatMap((scope) => scope.metrics).filter((metric) => metric.descriptor.name === name).flatMap((metric) => metric.dataPoints as Array<{ attributes: Record<string, unknown>; value: unknown }>);
}

describe('without an SDK registered', () => {
  it('creates no-op spans: no trace id, nothing injected', async () => {
    const headers = new FakeHeaders();
    await withSpan('work', {}, async (span) => {
      expect(span.isRecording()).toBe(false);
      expect(currentTraceId()).toBeNull();
      injectTraceContext(headers);
    });
    expect(headers.keys()).toEqual([]);
  });
});

describe('with an in-memory SDK', () => {
  let telemetry: InMemoryTelemetry;

  beforeEach(() => {
    telemetry = startInMemoryTelemetry();
  });

  afterEach(async () => {
    await telemetry.stop();
    setModelPrices({});
  });

  it('carries the trace context and the workflow baggage through message headers to the consumer span', async () => {
    const headers = new FakeHeaders();
    await withSpan('step', {}, () =>
      withWorkflowBaggage({ workflowId: 'wf-1', workflowType: 'email-triage' }, () =>
        withPublishSpan({ subject: workflowEventSubject('wf-1'), messageId: 'm-1', envelopeType: 'email.received', workflowId: 'wf-1' }, async () => injectTraceContext(headers)),
      ),
    );
    expect(headers.get('traceparent')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(headers.get('baggage')).toContain('troupe.workflow.type=email-triage');
    await withConsumeSpan({ subject: 'troupe.agent.classifier.task', pattern: 'troupe.agent.classifier.task', consumer: 'agent-classifier', stream: 'AGENT_TASKS', deliveryCount: 1, headers }, async () => {
      expect(workflowTypeFromBaggage()).toBe('email-triage');
    });
    const [publish, , consume] = telemetry.spans();
    const producer = telemetry.spans().find((span) => span.kind === SpanKind.PRODUCER)!;
    const consumer = telemetry.spans().find((span) => span.kind === SpanKind.CONSUMER)!;
    expect(publish).toBe(producer);
    expect(consume).toBe(consumer);
    expect(consumer.spanContext().traceId).toBe(producer.spanContext().traceId);
    expect(consumer.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
    expect(producer.name).toBe('send troupe.wf.{partition}.{workflowId}');
    expect(producer.attributes).toMatchObject({ 'messaging.system': 'nats', 'messaging.operation.type': 'send', 'messaging.destination.name': workflowEventSubject('wf-1'), 'messaging.message.id': 'm-1' });
    expect(consumer.name).toBe('process troupe.agent.classifier.task');
    expect(consumer.attributes).toMatchObject({ 'messaging.system': 'nats', 'messaging.operation.type': 'process', 'messaging.consumer.group.name': 'agent-classifier' });
    expect(traceIdOfHeaders(headers)).toBe(producer.spanContext().traceId);
  });

  it('starts a new trace when the headers carry none', async () => {
    expect(extractTraceContext(undefined)).toBe(context.active());
    await withConsumeSpan({ subject: 's', pattern: 's', consumer: 'c', stream: 'S', deliveryCount: 1, headers: new FakeHeaders() }, async () => undefined);
    expect(telemetry.spans()[0].parentSpanContext).toBeUndefined();
  });

  it('continues a stored traceparent, so a later hop joins the workflow trace', async () => {
    let stored: string | null = null;
    await withSpan('first step', {}, async (span) => {
      stored = `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`;
    });
    await withTraceParent(stored, () => withSpan('decision', {}, async () => undefined));
    const [first, decision] = telemetry.spans();
    expect(decision.spanContext().traceId).toBe(first.spanContext().traceId);
    expect(decision.parentSpanContext?.spanId).toBe(first.spanContext().spanId);
  });

  it('marks a failed span with error.type, the status and the exception, and rethrows', async () => {
    const failure = Object.assign(new Error('store down'), { code: 'STORE_UNAVAILABLE' });
    await expect(withSpan('work', {}, async () => Promise.reject(failure))).rejects.toBe(failure);
    const [span] = telemetry.spans();
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'store down' });
    expect(span.attributes['error.type']).toBe('STORE_UNAVAILABLE');
    expect(span.events.map((event) => event.name)).toEqual(['exception']);
  });

  it('records a model call per the GenAI conventions: attributes, usage, duration, tokens and cost by workflow type', async () => {
    setModelPrices({ 'gpt-4o-mini': { inputUsdPerMillionTokens: 0.15, outputUsdPerMillionTokens: 0.6 } });
    const answer = await withSpan('agent task', {}, () =>
      withWorkflowBaggage({ workflowId: 'wf-1', workflowType: 'email-triage' }, () =>
        withModelCallSpan({ providerName: genAiProviderName('openai.responses'), requestModel: 'gpt-4o-mini', temperature: 0 }, async (call) => {
          call.setUsage({ inputTokens: 1_000, outputTokens: 200 });
          call.setResponse({ model: 'gpt-4o-mini-2024-07-18', finishReasons: ['stop'] });
          return 'ok';
        }),
      ),
    );
    expect(answer).toBe('ok');
    const span = telemetry.spans().find((s) => s.kind === SpanKind.CLIENT)!;
    expect(span.name).toBe('chat gpt-4o-mini');
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.request.temperature': 0,
      'gen_ai.usage.input_tokens': 1_000,
      'gen_ai.usage.output_tokens': 200,
      'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
      'gen_ai.response.finish_reasons': ['stop'],
      'troupe.workflow.type': 'email-triage',
    });
    const metrics = await telemetry.collectMetrics();
    const tokens = dataPoints(metrics, 'gen_ai.client.token.usage');
    expect(tokens.map((point) => [point.attributes['gen_ai.token.type'], (point.value as { sum: number }).sum, point.attributes['troupe.workflow.type']])).toEqual([
      ['input', 1_000, 'email-triage'],
      ['output', 200, 'email-triage'],
    ]);
    const [cost] = dataPoints(metrics, 'troupe.model.cost');
    expect(cost.value as number).toBeCloseTo((1_000 * 0.15 + 200 * 0.6) / 1_000_000, 12);
    expect(cost.attributes).toMatchObject({ 'gen_ai.request.model': 'gpt-4o-mini', 'troupe.workflow.type': 'email-triage' });
  });

  it('gives a failed model call error.type on its span and its duration metric', async () => {
    class APICallError extends Error {
      override name = 'AI_APICallError';
    }
    await expect(withModelCallSpan({ providerName: 'anthropic', requestModel: 'claude' }, async () => Promise.reject(new APICallError('overloaded')))).rejects.toThrow('overloaded');
    const [span] = telemetry.spans();
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('AI_APICallError');
    const [duration] = dataPoints(await telemetry.collectMetrics(), 'gen_ai.client.operation.duration');
    expect(duration.attributes['error.type']).toBe('AI_APICallError');
    expect(dataPoints(await telemetry.collectMetrics(), 'gen_ai.client.token.usage')).toEqual([]);
  });

  it('names a tool call span execute_tool with gen_ai.tool.name', async () => {
    await withToolSpan('lookup_order', async () => 42);
    const [span] = telemetry.spans();
    expect(span.name).toBe('execute_tool lookup_order');
    expect(span.attributes).toMatchObject({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'lookup_order' });
  });

  it('writes trace_id and span_id on log lines inside a span, and none outside', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = new TroupeLogger({ service: 'agents', destination });
    logger.log('outside', 'Boot');
    let ids = { traceId: '', spanId: '' };
    await withSpan('work', {}, async () => {
      const spanContext = trace.getActiveSpan()!.spanContext();
      ids = { traceId: spanContext.traceId, spanId: spanContext.spanId };
      logger.warn('inside', 'Worker');
      logger.error('failed', 'Error: boom\n    at x', 'Worker');
    });
    const [outside, inside, failed] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(outside).toMatchObject({ level: 'info', service: 'agents', context: 'Boot', msg: 'outside' });
    expect(outside.trace_id).toBeUndefined();
    expect(inside).toMatchObject({ level: 'warn', context: 'Worker', msg: 'inside', trace_id: ids.traceId, span_id: ids.spanId });
    expect(failed).toMatchObject({ level: 'error', context: 'Worker', stack: 'Error: boom\n    at x', trace_id: ids.traceId });
  });
});

describe('helpers', () => {
  it('parses a W3C traceparent and refuses malformed ones', () => {
    expect(parseTraceParent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')).toMatchObject({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', isRemote: true });
    expect(parseTraceParent('00-00000000000000000000000000000000-b7ad6b7169203331-01')).toBeNull();
    expect(parseTraceParent('ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')).toBeNull();
    expect(parseTraceParent('garbage')).toBeNull();
    expect(parseTraceParent(null)).toBeNull();
  });

  it('makes subjects low-cardinality for span names', () => {
    expect(subjectTemplate('troupe.changes.wf-1', 'wf-1')).toBe('troupe.changes.{workflowId}');
    expect(subjectTemplate('troupe.agent.drafter.task', 'wf-1')).toBe('troupe.agent.drafter.task');
  });

  it('names error types by code, then name, then _OTHER', () => {
    expect(errorTypeOf(Object.assign(new Error('x'), { code: 'MODEL_CALL_FAILED' }))).toBe('MODEL_CALL_FAILED');
    expect(errorTypeOf(new TypeError('x'))).toBe('TypeError');
    expect(errorTypeOf('a string')).toBe('_OTHER');
  });

  it('filters log lines by the levels Nest sets', () => {
    const lines: string[] = [];
    const destination = new Writable({ write: (chunk, _encoding, done) => (lines.push(chunk.toString()), done()) });
    const logger = new TroupeLogger({ service: 'x', destination, level: 'debug' });
    logger.debug('shown');
    logger.setLogLevels(['error', 'warn']);
    logger.log('hidden');
    logger.warn('shown too');
    expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(['shown', 'shown too']);
  });

  it('parses TROUPE_MODEL_PRICES and names every bad entry', () => {
    expect(parseModelPrices(undefined)).toEqual({});
    expect(parseModelPrices('{"m":{"inputUsdPerMillionTokens":1,"outputUsdPerMillionTokens":2}}')).toEqual({ m: { inputUsdPerMillionTokens: 1, outputUsdPerMillionTokens: 2 } });
    expect(() => parseModelPrices('{"a":{"inputUsdPerMillionTokens":-1,"outputUsdPerMillionTokens":2},"b":3}')).toThrow(/TROUPE_MODEL_PRICES\.a.*\n.*TROUPE_MODEL_PRICES\.b/s);
    expect(() => parseModelPrices('[1]')).toThrow(/JSON object/);
  });
});
