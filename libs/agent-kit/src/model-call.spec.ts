import { APICallError } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { callModel, classifyModelError, parseAnswer, retryAfterMs, toModelMessages } from './model-call';
import { costOf, priceTableFromEnv } from './pricing';
import { callTool, defineTool } from './tools';

const lookup = defineTool({
  name: 'thread_lookup',
  description: 'Finds earlier messages of a thread.',
  inputSchema: z.object({ subject: z.string().min(1) }),
  outputSchema: z.object({ messages: z.array(z.string()) }),
  execute: async ({ subject }) => ({ messages: [`earlier: ${subject}`] }),
});
const usage = {
  inputTokens: { total: 12, noCache: undefined, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 3, text: undefined, reasoning: undefined },
};

describe('callModel', () => {
  it('returns the tool calls the model asked for, marked when a tool requires approval, without running them', async () => {
    const fax = defineTool({ ...lookup, name: 'send_fax', requiresApproval: true });
    const model = new MockLanguageModelV3({
      doGenerate: async () => ({
        content: [
          { type: 'tool-call', toolCallId: 'c1', toolName: 'thread_lookup', input: '{"subject":"Lunch"}' },
          { type: 'tool-call', toolCallId: 'c2', toolName: 'send_fax', input: '{"subject":"x"}' },
        ],
        finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
        usage,
        warnings: [],
      }),
    });
    const result = await callModel({ model, system: 'S', transcript: [{ role: 'user', content: 'hi' }], tools: [lookup, fax], answerSchema: null });
    expect(result).toEqual({
      model: 'mock-provider/mock-model-id',
      inputTokens: 12,
      outputTokens: 3,
      decision: {
        kind: 'tool_calls',
        text: '',
        calls: [
          { callId: 'c1', tool: 'thread_lookup', input: { subject: 'Lunch' }, requiresApproval: false },
          { callId: 'c2', tool: 'send_fax', input: { subject: 'x' }, requiresApproval: true },
        ],
      },
    });
    const tools = model.doGenerateCalls[0].tools ?? [];
    expect(tools.map((t) => t.name)).toEqual(['thread_lookup', 'send_fax']);
  });

  it('sends the transcript with tool calls and tool results in the AI SDK message form', () => {
    expect(
      toModelMessages([
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: '', toolCalls: [{ callId: 'c1', tool: 'thread_lookup', input: { subject: 'x' } }] },
        { role: 'tool', callId: 'c1', tool: 'thread_lookup', output: { messages: [] } },
      ]),
    ).toEqual([
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'thread_lookup', input: { subject: 'x' } }] },
      { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'c1', toolName: 'thread_lookup', output: { type: 'json', value: { messages: [] } } }] },
    ]);
  });

  it('parses a final answer with the schema and names what is wrong with an invalid one', () => {
    const schema = z.object({ body: z.string() });
    expect(parseAnswer('```json\n{"body":"ok"}\n```', schema)).toEqual({ kind: 'answer', value: { body: 'ok' }, text: '```json\n{"body":"ok"}\n```' });
    expect(parseAnswer('{"body": 3}', schema)).toMatchObject({ kind: 'invalid_answer', issues: ['body: Invalid input: expected string, received number'] });
    expect(parseAnswer('no json', schema)).toMatchObject({ kind: 'invalid_answer', issues: ['(root): no JSON object in the answer'] });
    expect(parseAnswer('free text', null)).toEqual({ kind: 'answer', value: 'free text', text: 'free text' });
  });

  it('classifies provider failures and reads Retry-After in seconds or as an HTTP date', () => {
    const error = (statusCode: number | undefined, headers: Record<string, string> = {}) =>
      new APICallError({ message: 'x', url: 'u', requestBodyValues: {}, statusCode, responseHeaders: headers });
    expect(classifyModelError('m', error(429, { 'retry-after': '2' }))).toMatchObject({ outcome: 'rate_limited', retryAfterMs: 2_000, transient: true });
    expect(classifyModelError('m', error(503))).toMatchObject({ outcome: 'server_error', transient: true });
    expect(classifyModelError('m', error(400))).toMatchObject({ outcome: 'rejected', transient: false });
    expect(classifyModelError('m', error(200))).toMatchObject({ outcome: 'malformed_response', transient: false });
    expect(classifyModelError('m', error(undefined))).toMatchObject({ outcome: 'connection_failed', transient: true });
    expect(retryAfterMs({ 'retry-after': 'Wed, 21 Oct 2015 07:28:05 GMT' }, Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(5_000);
    expect(retryAfterMs({ 'retry-after': 'soon' })).toBeNull();
  });
});

describe('callTool', () => {
  const context = { idempotencyKey: 'k', runId: 'r' };

  it('validates the input before running and the output after', async () => {
    expect(await callTool(lookup, { subject: 'Lunch' }, context, () => 0)).toEqual({ ok: true, output: { messages: ['earlier: Lunch'] }, error: null, latencyMs: 0 });
    let ran = false;
    const guarded = defineTool({ ...lookup, execute: async () => { ran = true; return { messages: [] }; } });
    expect(await callTool(guarded, { subject: '' }, context)).toMatchObject({ ok: false, error: 'input of thread_lookup is not valid: subject: Too small: expected string to have >=1 characters' });
    expect(ran).toBe(false);
    const liar = defineTool({ ...lookup, execute: async () => ({ messages: 'not a list' }) as never });
    expect((await callTool(liar, { subject: 'x' }, context)).error).toMatch(/^output of thread_lookup is not valid: messages:/);
    const broken = defineTool({ ...lookup, execute: async () => { throw new Error('index offline'); } });
    expect((await callTool(broken, { subject: 'x' }, context)).error).toBe('thread_lookup failed: index offline');
  });
});

describe('prices', () => {
  it('costs tokens in USD per million and reads the table from the environment', () => {
    const prices = priceTableFromEnv({ TROUPE_MODEL_PRICES: '{"gpt-4o-mini":{"inputUsdPerMillionTokens":0.15,"outputUsdPerMillionTokens":0.6}}' });
    expect(costOf(prices, 'openai.chat/gpt-4o-mini', 1_000_000, 500_000)).toEqual({ costUsd: 0.45, priced: true });
    expect(costOf(prices, 'other/model', 1_000, 1_000)).toEqual({ costUsd: 0, priced: false });
    expect(() => priceTableFromEnv({ TROUPE_MODEL_PRICES: '{"m":{"inputUsdPerMillionTokens":-1}}' })).toThrow(/TROUPE_MODEL_PRICES\.m/);
  });
});

describe('executeToolCall', () => {
  it('answers a tool call whose result is recorded from the record, without running the tool again', async () => {
    const { AgentRegistry } = await import('./agent-definition');
    const { InMemoryToolResultStore, executeToolCall } = await import('./agent-host');
    let runs = 0;
    const counted = defineTool({ ...lookup, execute: async ({ subject }) => { runs += 1; return { messages: [subject] }; } });
    const agents = new AgentRegistry([{ name: 'helper', tools: [counted] } as never]);
    const store = new InMemoryToolResultStore();
    const request = { agent: 'helper', callId: 'c1', tool: 'thread_lookup', input: { subject: 'x' }, effectId: 'run-1:2:0', runId: 'run-1' };
    const first = await executeToolCall(agents, request, store, () => 0);
    // A redelivery after a crash between running the tool and publishing its result.
    const second = await executeToolCall(agents, request, store, () => 0);
    expect(runs).toBe(1);
    expect(second).toEqual(first);
    expect(first.payload).toMatchObject({ ok: true, output: { messages: ['x'] }, callId: 'c1', effectId: 'run-1:2:0' });
    const unknown = await executeToolCall(agents, { ...request, effectId: 'run-1:2:1', tool: 'nope' }, store);
    expect(unknown.payload).toMatchObject({ ok: false, error: 'unknown tool nope (tools: thread_lookup)' });
  });
});
