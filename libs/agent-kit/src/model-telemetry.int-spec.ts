import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SchemaValidationError } from '@troupe/contracts';
import { startInMemoryTelemetry, type InMemoryTelemetry } from '@troupe/telemetry';
import { ModelCallError } from './errors';
import { callModel } from './model-call';
import { createLanguageModel } from './language-model';
import { modelConfigFromEnv } from './model-config';
import { withModelTelemetry } from './model-telemetry';
import { scriptedLanguageModel, scriptedLanguageModelFromFile } from './scripted-model';
import { generateStructured } from './structured-output';
import { defineTool } from './tools';

const Answer = z.object({ label: z.enum(['spam', 'ham']) });
const request = { schema: Answer, schemaName: 'spam_classification', system: 'Classify.', prompt: 'Is this spam?', maxRetries: 0 };

function scriptFile(script: unknown): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'troupe-script-')), 'script.json');
  writeFileSync(file, JSON.stringify(script));
  return file;
}

describe('model calls in GenAI spans', () => {
  let telemetry: InMemoryTelemetry;

  beforeEach(() => {
    telemetry = startInMemoryTelemetry();
  });

  afterEach(async () => {
    await telemetry.stop();
  });

  it('gives each attempt of generateStructured a chat span with its token usage', async () => {
    const model = scriptedLanguageModelFromFile(
      scriptFile({ answers: { spam_classification: [{ text: '{"label":"maybe"}', inputTokens: 10, outputTokens: 2 }, { text: '{"label":"ham"}', inputTokens: 14, outputTokens: 3 }] } }),
    );
    const answer = await generateStructured({ model, ...request });
    expect(answer).toMatchObject({ value: { label: 'ham' }, attempts: 2, inputTokens: 24, outputTokens: 5 });
    const calls = telemetry.spans().filter((span) => span.kind === SpanKind.CLIENT);
    expect(calls.map((span) => [span.name, span.attributes['gen_ai.usage.input_tokens'], span.attributes['gen_ai.usage.output_tokens']])).toEqual([
      ['chat scripted-model', 10, 2],
      ['chat scripted-model', 14, 3],
    ]);
    expect(calls[0].attributes).toMatchObject({ 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'scripted', 'gen_ai.request.model': 'scripted-model', 'gen_ai.output.type': 'json' });
  });

  it('shows a scripted failure as a failed span with error.type, and the caller gets a ModelCallError', async () => {
    const model = scriptedLanguageModelFromFile(scriptFile({ answers: { default: [{ error: { message: 'overloaded', statusCode: 529, retryable: false } }] } }));
    const failure = await generateStructured({ model, ...request }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ModelCallError);
    expect((failure as ModelCallError).retryable).toBe(false);
    const [span] = telemetry.spans();
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('AI_APICallError');
  });

  it('adds no second span for a model the caller wrapped already', async () => {
    const model = withModelTelemetry(scriptedLanguageModel(['{"label":"spam"}']));
    expect(withModelTelemetry(model)).toBe(model);
    await generateStructured({ model, ...request });
    expect(telemetry.spans().filter((span) => span.kind === SpanKind.CLIENT)).toHaveLength(1);
  });

  it('still records the mock models of unit tests (their calls stay on the inner model)', async () => {
    const model = scriptedLanguageModel(['{"label":"spam"}']);
    await generateStructured({ model, ...request });
    expect(model.doGenerateCalls).toHaveLength(1);
    expect(telemetry.spans().filter((span) => span.kind === SpanKind.CLIENT)).toHaveLength(1);
  });
});

describe('the scripted model test double', () => {
  it('is configured by TROUPE_MODEL_PROVIDER=scripted-test-double with a script file', async () => {
    const file = scriptFile({ answers: { default: [{ text: '{"label":"ham"}' }] } });
    const config = modelConfigFromEnv({ TROUPE_MODEL_PROVIDER: 'scripted-test-double', TROUPE_MODEL_SCRIPT_FILE: file });
    expect(config).toMatchObject({ provider: 'scripted-test-double', modelName: 'scripted-model', scriptFile: file });
    const answer = await generateStructured({ model: createLanguageModel(config!), ...request });
    expect(answer.value).toEqual({ label: 'ham' });
    expect(() => modelConfigFromEnv({ TROUPE_MODEL_PROVIDER: 'scripted-test-double' })).toThrow(/TROUPE_MODEL_SCRIPT_FILE: required/);
  });

  it('answers a plain-text call by a phrase of its system prompt, with a scripted tool call first', async () => {
    const model = scriptedLanguageModelFromFile(
      scriptFile({
        answers: {},
        answersBySystemPrompt: [
          {
            contains: 'You draft',
            answers: [{ toolCalls: [{ toolName: 'thread_lookup', input: { subject: 'Lunch' } }], text: 'Let me look.', inputTokens: 9, outputTokens: 4 }, { text: '{"body":"Hi"}', inputTokens: 12, outputTokens: 6 }],
          },
        ],
      }),
    );
    const lookup = defineTool({
      name: 'thread_lookup',
      description: 'Finds the thread.',
      inputSchema: z.object({ subject: z.string() }),
      outputSchema: z.object({ messages: z.array(z.string()) }),
      execute: async () => ({ messages: [] }),
    });
    const ask = () => callModel({ model, system: 'You draft replies.', transcript: [{ role: 'user', content: 'Draft.' }], tools: [lookup], answerSchema: z.object({ body: z.string() }) });
    expect(await ask()).toMatchObject({
      inputTokens: 9,
      outputTokens: 4,
      decision: { kind: 'tool_calls', text: 'Let me look.', calls: [{ callId: 'scripted-call-1-0', tool: 'thread_lookup', input: { subject: 'Lunch' }, requiresApproval: false }] },
    });
    expect(await ask()).toMatchObject({ inputTokens: 12, outputTokens: 6, decision: { kind: 'answer', value: { body: 'Hi' } } });
  });

  it('rejects a malformed script when it is created', () => {
    expect(() => scriptedLanguageModelFromFile(scriptFile({ answers: { x: [] } }))).toThrow(SchemaValidationError);
    expect(() => scriptedLanguageModelFromFile('/nonexistent/script.json')).toThrow(/not readable JSON/);
  });
});
