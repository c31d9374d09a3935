import { APICallError } from 'ai';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ModelCallError, StructuredOutputError } from './errors';
import { scriptedLanguageModel } from './scripted-model';
import { generateStructured } from './structured-output';

const Answer = z.object({ label: z.enum(['spam', 'ham']), confidence: z.number().min(0).max(1) });
const request = { schema: Answer, schemaName: 'spam_classification', system: 'Classify.', prompt: 'Is this spam?' };

describe('generateStructured', () => {
  it('returns a valid JSON answer parsed with the schema', async () => {
    const model = scriptedLanguageModel(['{"label":"spam","confidence":0.93}']);
    const answer = await generateStructured({ model, ...request });
    expect(answer).toEqual({ value: { label: 'spam', confidence: 0.93 }, model: 'scripted/scripted-model', attempts: 1, inputTokens: null, outputTokens: null });
  });

  it('asks the provider for JSON and spells the schema out in the system prompt', async () => {
    const model = scriptedLanguageModel(['{"label":"ham","confidence":0.6}']);
    await generateStructured({ model, ...request });
    const call = model.doGenerateCalls[0];
    expect(call.responseFormat).toMatchObject({ type: 'json', name: 'spam_classification' });
    const system = call.prompt.find((message) => message.role === 'system');
    expect(system?.content).toContain('"confidence"');
  });

  it('accepts JSON inside a code fence', async () => {
    const model = scriptedLanguageModel(['Sure:\n```json\n{"label":"ham","confidence":0.7}\n```']);
    expect((await generateStructured({ model, ...request })).value).toEqual({ label: 'ham', confidence: 0.7 });
  });

  it('feeds the validation errors back and takes the corrected answer', async () => {
    const model = scriptedLanguageModel(['{"label":"maybe","confidence":2}', '{"label":"ham","confidence":0.8}']);
    const answer = await generateStructured({ model, ...request });
    expect(answer.value).toEqual({ label: 'ham', confidence: 0.8 });
    expect(answer.attempts).toBe(2);
    const retry = JSON.stringify(model.doGenerateCalls[1].prompt);
    expect(retry).toContain('maybe');
    expect(retry).toContain('label');
    expect(retry).toContain('not valid');
  });

  it('throws StructuredOutputError naming the failing paths when every attempt is invalid', async () => {
    const model = scriptedLanguageModel(['{"label":"maybe"}']);
    const failure = await generateStructured({ model, ...request, maxAttempts: 3 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StructuredOutputError);
    const error = failure as StructuredOutputError;
    expect(error.code).toBe('STRUCTURED_OUTPUT_INVALID');
    expect(error.retryable).toBe(false);
    expect(error.attempts).toBe(3);
    expect(error.issues.join('\n')).toMatch(/label/);
    expect(error.issues.join('\n')).toMatch(/confidence/);
    expect(error.answerText).toBe('{"label":"maybe"}');
    expect(model.doGenerateCalls).toHaveLength(3);
  });

  it('says so when the answer holds no JSON at all', async () => {
    const model = scriptedLanguageModel(['I think it is spam.']);
    const error = (await generateStructured({ model, ...request, maxAttempts: 1 }).catch((caught: unknown) => caught)) as StructuredOutputError;
    expect(error).toBeInstanceOf(StructuredOutputError);
    expect(error.issues).toEqual(['(root): no JSON object in the answer']);
  });

  it('wraps a failed call in ModelCallError, retryable as the provider says', async () => {
    const rateLimited = new APICallError({ message: 'rate limited', url: 'http://model', requestBodyValues: {}, statusCode: 429, isRetryable: true });
    const rejected = new APICallError({ message: 'bad key', url: 'http://model', requestBodyValues: {}, statusCode: 401, isRetryable: false });
    const first = await generateStructured({ model: scriptedLanguageModel([rateLimited]), ...request, maxRetries: 0 }).catch((error: unknown) => error);
    const second = await generateStructured({ model: scriptedLanguageModel([rejected]), ...request, maxRetries: 0 }).catch((error: unknown) => error);
    expect(first).toBeInstanceOf(ModelCallError);
    expect((first as ModelCallError).retryable).toBe(true);
    expect(second).toBeInstanceOf(ModelCallError);
    expect((second as ModelCallError).retryable).toBe(false);
    expect((second as ModelCallError).message).toContain('scripted/scripted-model');
  });
});
