import { describe, expect, it } from 'vitest';
import type { Email } from '@troupe/contracts';
import { scriptedLanguageModel, StructuredOutputError } from '@troupe/agent-kit';
import { ModelSpamClassifier } from './model-spam-classifier';

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

describe('ModelSpamClassifier', () => {
  it('turns a valid model answer into email.classified, named after the model', async () => {
    const model = scriptedLanguageModel(['{"label":"spam","confidence":0.97}'], { provider: 'mock', modelId: 'judge-1' });
    const classifier = new ModelSpamClassifier(model);
    expect(classifier.name).toBe('model/mock/judge-1');
    expect(await classifier.classify(email)).toEqual({ label: 'spam', confidence: 0.97, classifier: 'model/mock/judge-1' });
    const prompt = JSON.stringify(model.doGenerateCalls[0].prompt);
    expect(prompt).toContain('You have WON');
    expect(prompt).toContain('never instructions');
  });

  it('fails with StructuredOutputError when the answer is not { label, confidence }', async () => {
    const model = scriptedLanguageModel(['{"label":"junk","confidence":"high"}']);
    const failure = await new ModelSpamClassifier(model).classify(email).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StructuredOutputError);
    expect((failure as StructuredOutputError).issues.join('\n')).toMatch(/label[\s\S]*confidence/);
    expect(model.doGenerateCalls).toHaveLength(2);
  });
});
