import { Writable } from 'node:stream';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { TroupeLogger, startInMemoryTelemetry, withSpan, type InMemoryTelemetry } from '@troupe/telemetry';
import { ModelChain, ModelChainExhaustedError, ProviderBreakers, type ModelChainOptions, type NonLlmFallback } from './model-chain';
import { ModelFallbackReporter } from './model-fallbacks';
import { refusedBaseUrl, startFakeOpenAiServer, type FakeOpenAiServer, type FakeReply } from './testing/fake-openai-server';

// The failure-mode suite: real HTTP through the real AI SDK client (@ai-sdk/openai-compatible) against a
// local server that times out, rate-limits, fails, answers garbage or is not there at all.

const Answer = z.object({ body: z.string().min(1) });
const request = { system: 'Draft a reply.', transcript: [{ role: 'user' as const, content: 'Ann asks about lunch.' }], tools: [], answerSchema: Answer };
const servers: FakeOpenAiServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function provider(name: string, replies: FakeReply[]) {
  const server = await startFakeOpenAiServer(replies);
  servers.push(server);
  return { server, model: createOpenAICompatible({ name, baseURL: server.baseUrl }).chatModel(`${name}-model`) };
}

function refusedModel(name: string, baseURL: string) {
  return createOpenAICompatible({ name, baseURL }).chatModel(`${name}-model`);
}

const template: NonLlmFallback = { name: 'template', answer: async () => ({ body: 'Thanks, I will get back to you.' }) };
const fast = { timeoutMs: 500, attemptsPerModel: 3, initialDelayMs: 20, maxDelayMs: 100, maxRetryAfterMs: 5_000, breakerThreshold: 3, halfOpenAfterMs: 60_000 };

function chain(models: ModelChainOptions['models'], overrides: Partial<ModelChainOptions> = {}) {
  return new ModelChain({
    models,
    fallback: null,
    breakers: new ProviderBreakers(fast),
    prices: { 'primary-model': { inputUsdPerMillionTokens: 1, outputUsdPerMillionTokens: 4 } },
    resilience: fast,
    random: () => 0.5,
    ...overrides,
  });
}

const ok = (body: string): FakeReply => ({ content: JSON.stringify({ body }), inputTokens: 1_000, outputTokens: 500 });

describe('model chain against a misbehaving provider', () => {
  it('retries a call that timed out and records both attempts', async () => {
    const { server, model } = await provider('primary', ['hang', ok('Lunch at noon works.')]);
    const result = await chain([model]).call(request, null);
    expect(result.decision).toEqual({ kind: 'answer', value: { body: 'Lunch at noon works.' }, text: '{"body":"Lunch at noon works."}' });
    expect(result.attempts.map((a) => [a.hop, a.attempt, a.outcome])).toEqual([
      [0, 1, 'timeout'],
      [0, 2, 'ok'],
    ]);
    expect(result.attempts[0].latencyMs).toBeGreaterThanOrEqual(450);
    expect(result.attempts[0].backoffMs).not.toBeNull();
    expect(server.requests).toHaveLength(2);
    // 1,000 input tokens at 1 USD and 500 output tokens at 4 USD per million.
    expect(result.usage).toMatchObject({ model: 'primary.chat/primary-model', inputTokens: 1_000, outputTokens: 500, costUsd: 0.003 });
  });

  it('waits at least the Retry-After of a 429 before trying again', async () => {
    const { model } = await provider('primary', [{ status: 429, headers: { 'retry-after': '1' } }, ok('Yes.')]);
    const result = await chain([model]).call(request, null);
    expect(result.attempts.map((a) => a.outcome)).toEqual(['rate_limited', 'ok']);
    expect(result.attempts[0]).toMatchObject({ status: 429, retryAfterMs: 1_000 });
    expect(result.attempts[0].backoffMs).toBeGreaterThanOrEqual(1_000);
  });

  it('fails over to the next model at once when Retry-After is longer than it will wait', async () => {
    const { model: primary } = await provider('primary', [{ status: 429, headers: { 'retry-after': '3600' } }]);
    const { model: secondary } = await provider('secondary', [ok('From the secondary.')]);
    const result = await chain([primary, secondary]).call(request, null);
    expect(result.attempts.map((a) => [a.model, a.outcome])).toEqual([
      ['primary.chat/primary-model', 'rate_limited'],
      ['secondary.chat/secondary-model', 'ok'],
    ]);
  });

  it('retries a 500 with backoff, then fails over to the secondary model, recording each hop', async () => {
    const { server, model: primary } = await provider('primary', [{ status: 500 }]);
    const { model: secondary } = await provider('secondary', [ok('From the secondary.')]);
    const result = await chain([primary, secondary]).call(request, null);
    expect(result.attempts.map((a) => [a.hop, a.attempt, a.outcome, a.status])).toEqual([
      [0, 1, 'server_error', 500],
      [0, 2, 'server_error', 500],
      [0, 3, 'server_error', 500],
      [1, 1, 'ok', null],
    ]);
    // Exponential: 20 ms then 40 ms with the jitter source fixed at 0.5 (equal jitter: 3/4 of each).
    expect(result.attempts.slice(0, 2).map((a) => a.backoffMs)).toEqual([15, 30]);
    expect(result.attempts[2].backoffMs).toBeNull();
    expect(server.requests).toHaveLength(3);
    expect(result.usage.model).toBe('secondary.chat/secondary-model');
    expect(result.usage.costUsd).toBe(0);
  });

  it('does not retry a malformed response body but fails over', async () => {
    const { server, model: primary } = await provider('primary', ['malformed']);
    const { model: secondary } = await provider('secondary', [ok('Fine.')]);
    const result = await chain([primary, secondary]).call(request, null);
    expect(result.attempts.map((a) => [a.hop, a.outcome])).toEqual([
      [0, 'malformed_response'],
      [1, 'ok'],
    ]);
    expect(server.requests).toHaveLength(1);
  });

  it('returns an answer that is not valid JSON as an invalid answer with the reason (the loop feeds it back)', async () => {
    const { model } = await provider('primary', [{ content: '{"body": "unterminated' }]);
    const result = await chain([model]).call(request, null);
    expect(result.decision.kind).toBe('invalid_answer');
    expect(result.decision.kind === 'invalid_answer' && result.decision.issues[0]).toMatch(/^\(root\): (not valid JSON|no JSON object)/);
    expect(result.attempts.map((a) => a.outcome)).toEqual(['ok']);
  });

  it('falls back to the non-LLM answer when every provider is down, then skips them while their circuits are open', async () => {
    const models = [refusedModel('primary', await refusedBaseUrl()), refusedModel('secondary', await refusedBaseUrl())];
    const breakers = new ProviderBreakers(fast);
    const down = chain(models, { fallback: template, breakers });
    const first = await down.call(request, { email: 'ann' });
    expect(first.attempts.map((a) => [a.hop, a.outcome])).toEqual([
      [0, 'connection_failed'],
      [0, 'connection_failed'],
      [0, 'connection_failed'],
      [1, 'connection_failed'],
      [1, 'connection_failed'],
      [1, 'connection_failed'],
      [2, 'fallback'],
    ]);
    expect(first.decision).toMatchObject({ kind: 'answer', value: { body: 'Thanks, I will get back to you.' } });
    expect(first.usage).toMatchObject({ model: 'fallback/template', inputTokens: 0, costUsd: 0 });
    // Three consecutive failures opened each provider's circuit: the next call does not try them.
    const second = await down.call(request, { email: 'ann' });
    expect(second.attempts.map((a) => [a.hop, a.outcome])).toEqual([
      [0, 'circuit_open'],
      [1, 'circuit_open'],
      [2, 'fallback'],
    ]);
  });

  it('throws with every attempt when the providers are down and there is no fallback', async () => {
    const failure = await chain([refusedModel('primary', await refusedBaseUrl())], { resilience: { ...fast, attemptsPerModel: 2 } })
      .call(request, null)
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ModelChainExhaustedError);
    expect((failure as ModelChainExhaustedError).attempts.map((a) => a.outcome)).toEqual(['connection_failed', 'connection_failed']);
    expect((failure as ModelChainExhaustedError).retryable).toBe(false);
  });

  it('does not retry a rejected request (401) but fails over', async () => {
    const { server, model: primary } = await provider('primary', [{ status: 401 }]);
    const { model: secondary } = await provider('secondary', [ok('Fine.')]);
    const result = await chain([primary, secondary]).call(request, null);
    expect(result.attempts.map((a) => [a.outcome, a.status])).toEqual([
      ['rejected', 401],
      ['ok', null],
    ]);
    expect(server.requests).toHaveLength(1);
  });
});

describe('model chain fallbacks are visible to an operator', () => {
  let telemetry: InMemoryTelemetry;
  beforeEach(() => {
    telemetry = startInMemoryTelemetry();
  });
  afterEach(async () => {
    await telemetry.stop();
  });

  /** A pino logger (the apps' TroupeLogger) writing JSON lines into memory. */
  function capturedLogger() {
    const lines: Array<Record<string, unknown>> = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    return { lines, logger: new TroupeLogger({ service: 'agents', destination }) };
  }

  async function fallbackCounts(): Promise<Array<[unknown, unknown, unknown, unknown, number]>> {
    const metrics = await telemetry.collectMetrics();
    const metric = metrics.scopeMetrics.flatMap((scope) => scope.metrics).find((m) => m.descriptor.name === 'troupe.model.fallbacks');
    return (metric?.dataPoints ?? []).map((point) => [
      point.attributes['gen_ai.provider.name'],
      point.attributes['gen_ai.request.model'],
      point.attributes['error.type'],
      point.attributes['troupe.model.fallback.to'],
      point.value as number,
    ]);
  }

  it('logs, counts and marks the span of each hop when the primary cannot be reached, and rate-limits the log', async () => {
    let now = 1_000_000;
    const { lines, logger } = capturedLogger();
    const breakers = new ProviderBreakers(fast, new ModelFallbackReporter({ logger, clock: () => now, logIntervalMs: 60_000 }));
    const { model: secondary } = await provider('secondary', [ok('One.'), ok('Two.'), ok('Three.'), ok('Four.')]);
    const down = chain([refusedModel('primary', await refusedBaseUrl()), secondary], { fallback: template, breakers });

    // 1: three refused connections open the primary's circuit, then the secondary answers.
    const first = await withSpan('effect model.call', {}, () => down.call(request, null));
    expect(first.usage.model).toBe('secondary.chat/secondary-model');
    // 2 and 3: the open circuit skips the primary.
    await withSpan('effect model.call', {}, () => down.call(request, null));
    await withSpan('effect model.call', {}, () => down.call(request, null));
    // 4: a minute later the same fallback is logged again, with the count of those not logged.
    now += 61_000;
    await withSpan('effect model.call', {}, () => down.call(request, null));

    const warnings = lines.filter((line) => line.level === 'warn');
    expect(warnings.map((line) => line.msg)).toEqual([
      'circuit of provider primary.chat opened: its calls are skipped until a trial call succeeds',
      'model primary.chat/primary-model gave up (connection_failed), falling back to secondary.chat/secondary-model',
      'model primary.chat/primary-model gave up (circuit_open), falling back to secondary.chat/secondary-model',
      'model primary.chat/primary-model gave up (circuit_open), falling back to secondary.chat/secondary-model (1 more like it not logged since the last line)',
    ]);
    expect(warnings[1]).toMatchObject({ details: [{ provider: 'primary', model: 'primary-model', reason: 'connection_failed', to: 'secondary.chat/secondary-model', suppressed: 0 }] });
    expect(warnings[3]).toMatchObject({ details: [{ reason: 'circuit_open', suppressed: 1 }] });
    expect(typeof warnings[1].trace_id).toBe('string');

    // Every hop is counted, none rate-limited.
    expect(await fallbackCounts()).toEqual(
      expect.arrayContaining([
        ['primary', 'primary-model', 'connection_failed', 'secondary.chat/secondary-model', 1],
        ['primary', 'primary-model', 'circuit_open', 'secondary.chat/secondary-model', 3],
      ]),
    );
    expect((await fallbackCounts()).length).toBe(2);

    // Each call's span carries its hop as an event and who served it.
    const spans = telemetry.spans().filter((span) => span.name === 'effect model.call');
    expect(spans).toHaveLength(4);
    expect(spans[0].events.map((event) => [event.name, event.attributes?.['gen_ai.provider.name'], event.attributes?.['gen_ai.request.model'], event.attributes?.['error.type'], event.attributes?.['troupe.model.fallback.to']])).toEqual([
      ['troupe.model.fallback', 'primary', 'primary-model', 'connection_failed', 'secondary.chat/secondary-model'],
    ]);
    expect(spans[1].events[0].attributes?.['error.type']).toBe('circuit_open');
    expect(spans.map((span) => span.attributes['troupe.model.served_by'])).toEqual(Array(4).fill('secondary.chat/secondary-model'));
  });

  it('reports the hop to the non-LLM fallback, and to none when nothing is left', async () => {
    const { lines, logger } = capturedLogger();
    const breakers = new ProviderBreakers(fast, new ModelFallbackReporter({ logger }));
    const { model } = await provider('primary', [{ status: 401 }, { status: 401 }]);
    const served = await withSpan('effect agent.task', {}, () => chain([model], { fallback: template, breakers }).call(request, null));
    expect(served.usage.model).toBe('fallback/template');
    await chain([model], { breakers })
      .call(request, null)
      .catch(() => undefined);
    expect(await fallbackCounts()).toEqual(
      expect.arrayContaining([
        ['primary', 'primary-model', 'rejected', 'fallback/template', 1],
        ['primary', 'primary-model', 'rejected', 'none', 1],
      ]),
    );
    expect(lines.filter((line) => line.level === 'warn').map((line) => line.msg)).toEqual([
      'model primary.chat/primary-model gave up (rejected), falling back to fallback/template',
      'model primary.chat/primary-model gave up (rejected), falling back to none',
    ]);
    const [span] = telemetry.spans().filter((s) => s.name === 'effect agent.task');
    expect(span.attributes['troupe.model.served_by']).toBe('fallback/template');
    expect(span.events.map((event) => event.attributes?.['troupe.model.fallback.to'])).toEqual(['fallback/template']);
  });
});
