import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ModelChain, ModelChainExhaustedError, ProviderBreakers, type ModelChainOptions, type NonLlmFallback } from './model-chain';
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
