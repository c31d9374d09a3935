import { describe, expect, it } from 'vitest';
import { MockLanguageModelV3 } from 'ai/test';
import { CLAIM_SCENARIOS, generateSyntheticClaims } from '@troupe/claims-corpus';
import type { Claim, ClaimDecision } from '@troupe/contracts';
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

describe('model claim agents', () => {
  it('extract through the configured model with the ClaimDetails schema', async () => {
    const answer = { policyNumber: 'POL-1', claimType: 'auto', incidentDate: '2026-01-02', amountUsd: 10, injuries: false, policeReport: false, description: 'x' };
    const model = new MockLanguageModelV3({
      doGenerate: async () => ({
        content: [{ type: 'text', text: JSON.stringify(answer) }],
        finishReason: { unified: 'stop', raw: 'stop' },
        usage: { inputTokens: { total: 10, noCache: 10, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 5, text: 5, reasoning: 0 } },
        warnings: [],
      }),
    });
    const extracted = await modelClaimAgents(model).extractor.extract(claims[0].claim);
    expect(extracted.details).toEqual(answer);
    expect(extracted.extractor).toMatch(/^model\//);
    expect(extracted.usage).toMatchObject({ inputTokens: 10, outputTokens: 5 });
  });
});
