import { APICallError } from 'ai';
import { describe, expect, it } from 'vitest';
import type { Email } from '@troupe/contracts';
import { scriptedLanguageModel, type ChatLanguageModel } from '@troupe/agent-kit';
import { specBreakers, specChain } from '../testing/one-step-chain';
import { ModelSpamClassifier, classifierFallback } from './model-spam-classifier';
import type { SpamClassifier } from './spam-classifier';

const email: Email = {
  messageId: '<1@example.org>',
  from: 'promo@example.com',
  to: 'me@example.org',
  subject: 'You have WON',
  date: null,
  text: 'Claim your prize now.',
  headers: {},
  origin: {},
};

/** The offline classifier standing in for naive Bayes as the chain's non-LLM fallback. */
const offline: SpamClassifier = { name: 'naive-bayes/test', classify: async () => ({ label: 'spam', confidence: 0.9, classifier: 'naive-bayes/test' }) };
function classifier(model: ChatLanguageModel, breakers = specBreakers()): ModelSpamClassifier {
  return new ModelSpamClassifier(specChain(model, classifierFallback(offline), breakers));
}

describe('ModelSpamClassifier (TROUPE_CLASSIFIER=model) over the model chain', () => {
  it('turns a valid model answer into email.classified, named after the model that served, with its usage', async () => {
    const model = scriptedLanguageModel(['{"label":"ham","confidence":0.97}'], { provider: 'mock', modelId: 'judge-1' });
    expect(await classifier(model).classify(email)).toEqual({
      label: 'ham',
      confidence: 0.97,
      classifier: 'chain/mock/judge-1',
      usage: { model: 'mock/judge-1', inputTokens: 0, outputTokens: 0, latencyMs: expect.any(Number), costUsd: 0 },
    });
    const prompt = JSON.stringify(model.doGenerateCalls[0].prompt);
    expect(prompt).toContain('You have WON');
    expect(prompt).toContain('never instructions');
  });

  it('retries a transient failure, then falls back to the offline classifier when the model cannot be reached', async () => {
    const unavailable = new APICallError({ message: 'unavailable', url: 'u', requestBodyValues: {}, statusCode: 503 });
    const model = scriptedLanguageModel([unavailable], { provider: 'mock', modelId: 'judge-1' });
    const answer = await classifier(model).classify(email);
    expect(answer).toMatchObject({ label: 'spam', confidence: 0.9, classifier: 'chain/fallback/naive-bayes/test', usage: { model: 'fallback/naive-bayes/test', inputTokens: 0 } });
    // Two attempts (TROUPE_MODEL_ATTEMPTS), then the fallback hop.
    expect(model.doGenerateCalls).toHaveLength(2);
  });

  it('skips the model while its circuit is open', async () => {
    const unavailable = new APICallError({ message: 'unavailable', url: 'u', requestBodyValues: {}, statusCode: 503 });
    const model = scriptedLanguageModel([unavailable], { provider: 'mock', modelId: 'judge-1' });
    const breakers = specBreakers({ breakerThreshold: 2, halfOpenAfterMs: 60_000 });
    await classifier(model, breakers).classify(email);
    expect((await classifier(model, breakers).classify(email)).classifier).toBe('chain/fallback/naive-bayes/test');
    expect(model.doGenerateCalls).toHaveLength(2);
  });

  it('lets the offline classifier decide when the answer is not { label, confidence }', async () => {
    const model = scriptedLanguageModel(['{"label":"junk","confidence":"high"}']);
    expect(await classifier(model).classify(email)).toMatchObject({ label: 'spam', classifier: 'chain/fallback/naive-bayes/test (model answer invalid)' });
    expect(model.doGenerateCalls).toHaveLength(1);
  });

  it('asks no model when the workflow budget is spent: naive Bayes answers, the skipped hop is reported', async () => {
    const model = scriptedLanguageModel(['{"label":"ham","confidence":0.97}'], { provider: 'mock', modelId: 'judge-1' });
    const warnings: string[] = [];
    const answer = await classifier(model, specBreakers(undefined, warnings)).classify(email, { budgetExhausted: 'workflow wf-1 has spent 10 of its 10 tokens' });
    expect(answer).toMatchObject({ label: 'spam', classifier: 'chain/fallback/naive-bayes/test (workflow budget exhausted)', usage: { inputTokens: 0, costUsd: 0 } });
    expect(model.doGenerateCalls).toHaveLength(0);
    expect(warnings).toEqual(['model mock/judge-1 gave up (budget_exhausted), falling back to fallback/naive-bayes/test']);
  });
});
