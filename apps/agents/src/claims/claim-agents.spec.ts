import { describe, expect, it } from 'vitest';
import { APICallError } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { ModelChain, ModelFallbackReporter, ProviderBreakers, scriptedLanguageModel, type ChatLanguageModel } from '@troupe/agent-kit';
import { CLAIM_SCENARIOS, generateSyntheticClaims } from '@troupe/claims-corpus';
import type { Claim, ClaimDecision } from '@troupe/contracts';
import type { ChainFactory } from '../model-chains';
import { ClaimFormError, modelClaimAgents, offlineClaimAgents } from './claim-agents';

const claims = generateSyntheticClaims({ seed: 8, count: 70 });

describe('offline claim agents on the synthetic claims', () => {
  const agents = offlineClaimAgents();

  it('extract every generated form into details whose amount is the one written on it', async () => {
    for (const { claim } of claims) {
      const { details } = await agents.extractor.extract(claim);
      expect(claim.text).toContain(`Amount claimed: $${details.amountUsd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`);
      expect(claim.text).toContain(`Policy number: ${details.policyNumber}`);
    }
  });

  it('classify each scenario with the severity of its label', async () => {
    for (const { claim, expected } of claims) {
      const { details } = await agents.extractor.extract(claim);
      expect((await agents.assessor.classify(details)).severity, `${claim.claimId} (${expected.scenario})`).toBe(expected.severity);
    }
  });

  it('let the senior reviewer decline exactly the claims that name an exclusion', async () => {
    const medium = claims.filter(({ expected }) => expected.route === 'senior-agent');
    expect(new Set(medium.map(({ expected }) => expected.outcome))).toEqual(new Set(['approved', 'rejected']));
    for (const { claim, expected } of medium) {
      const { details } = await agents.extractor.extract(claim);
      expect((await agents.seniorReviewer.review(details)).outcome, claim.claimId).toBe(expected.outcome);
    }
  });

  it('write a letter that states the outcome and the amount paid', async () => {
    const { claim } = claims[0];
    const { details } = await agents.extractor.extract(claim);
    const decision: ClaimDecision = { outcome: 'approved', approvedAmountUsd: 123.45, decidedBy: 'x', route: 'auto', reason: 'ok' };
    const letter = await agents.letterWriter.write(claim, details, decision);
    expect(letter.subject).toBe(`Your claim ${claim.claimId}: approved`);
    expect(letter.body).toContain('$123.45');
    expect(letter.body).toContain(claim.claimant.name);
  });

  it('refuse a form without an amount with a non-retryable ClaimFormError', async () => {
    const claim: Claim = { ...claims[0].claim, text: claims[0].claim.text.replace(/Amount claimed:.*\n/, '') };
    await expect(agents.extractor.extract(claim)).rejects.toBeInstanceOf(ClaimFormError);
    await expect(agents.extractor.extract(claim)).rejects.toMatchObject({ retryable: false });
  });
});

describe('synthetic claims', () => {
  it('are the same for the same seed and cover every scenario', () => {
    expect(generateSyntheticClaims({ seed: 8, count: 14 })).toEqual(generateSyntheticClaims({ seed: 8, count: 14 }));
    expect(generateSyntheticClaims({ seed: 9, count: 14 })).not.toEqual(generateSyntheticClaims({ seed: 8, count: 14 }));
    expect(new Set(claims.map(({ expected }) => expected.scenario))).toEqual(new Set(CLAIM_SCENARIOS));
    expect(claims.every(({ claim }) => claim.text.startsWith('SYNTHETIC CLAIM FORM'))).toBe(true);
  });
});

function chainsOver(model: ChatLanguageModel, breakers = new ProviderBreakers({ breakerThreshold: 2, halfOpenAfterMs: 60_000 }, new ModelFallbackReporter({ logger: quiet }))): ChainFactory {
  return (fallback) => new ModelChain({ models: [model], fallback, breakers, prices: {}, resilience: { attemptsPerModel: 2, initialDelayMs: 1, maxDelayMs: 1 } });
}
const quiet = { warn: () => undefined, log: () => undefined };
const unavailable = () => new APICallError({ message: 'unavailable', url: 'u', requestBodyValues: {}, statusCode: 503 });

describe('model claim agents over the model chain', () => {
  const details = { policyNumber: 'POL-1', claimType: 'auto' as const, incidentDate: '2026-01-02', amountUsd: 10, injuries: false, policeReport: false, description: 'x' };

  it('extract through the configured model with the ClaimDetails schema', async () => {
    const model = new MockLanguageModelV3({
      doGenerate: async () => ({
        content: [{ type: 'text', text: JSON.stringify(details) }],
        finishReason: { unified: 'stop', raw: 'stop' },
        usage: { inputTokens: { total: 10, noCache: 10, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 5, text: 5, reasoning: 0 } },
        warnings: [],
      }),
    });
    const extracted = await modelClaimAgents(chainsOver(model)).extractor.extract(claims[0].claim);
    expect(extracted.details).toEqual(details);
    expect(extracted.extractor).toBe('chain/mock-provider/mock-model-id');
    expect(extracted.usage).toEqual({ model: 'mock-provider/mock-model-id', inputTokens: 10, outputTokens: 5 });
    expect(extracted.modelUsage).toMatchObject({ inputTokens: 10, outputTokens: 5 });
  });

  it('retry a transient failure, then the offline stand-in answers; an open circuit skips the model for every agent', async () => {
    const model = scriptedLanguageModel([unavailable()]);
    const agents = modelClaimAgents(chainsOver(model));
    const offline = offlineClaimAgents();
    const extracted = await agents.extractor.extract(claims[0].claim);
    expect(extracted).toMatchObject({ details: (await offline.extractor.extract(claims[0].claim)).details, extractor: 'chain/fallback/offline-rules/claims-extractor', usage: null });
    expect(model.doGenerateCalls).toHaveLength(2);
    // Two failures opened the provider's circuit (threshold 2): the assessor's chain shares the breakers.
    expect(await agents.assessor.classify(details)).toMatchObject({ severity: 'low', classifier: 'chain/fallback/offline-rules/claims-assessor', usage: null });
    expect(model.doGenerateCalls).toHaveLength(2);
  });

  it('let the offline stand-in decide when the answer is invalid', async () => {
    const model = scriptedLanguageModel(['{"outcome":"maybe"}']);
    const reviewed = await modelClaimAgents(chainsOver(model)).seniorReviewer.review(details);
    expect(reviewed).toMatchObject({ outcome: 'approved', approvedAmountUsd: 10, reviewer: 'chain/fallback/offline-rules/claims-senior-reviewer (model answer invalid)' });
    expect(reviewed.usage?.model).toBe('scripted/scripted-model');
    expect(model.doGenerateCalls).toHaveLength(1);
  });

  it('ask no model when the workflow budget is spent', async () => {
    const model = scriptedLanguageModel(['{"subject":"s","body":"b"}']);
    const decision: ClaimDecision = { outcome: 'approved', approvedAmountUsd: 10, decidedBy: 'system:auto-approve', route: 'auto', reason: 'ok' };
    const letter = await modelClaimAgents(chainsOver(model)).letterWriter.write(claims[0].claim, details, decision, { budgetExhausted: 'workflow c-1 has spent 9 of its 5 tokens' });
    expect(letter).toMatchObject({ writer: 'chain/fallback/offline-template/claims-letter-writer (workflow budget exhausted)', usage: null });
    expect(model.doGenerateCalls).toHaveLength(0);
  });
});
