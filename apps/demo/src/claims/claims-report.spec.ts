import { describe, expect, it } from 'vitest';
import type { ExpectedClaimOutcome } from '@troupe/claims-corpus';
import type { WorkflowChanged } from '@troupe/contracts';
import type { TrackedWorkflow } from '../tracker';
import { buildClaimsReport } from './claims-report';

function tracked(workflowId: string, last: Partial<WorkflowChanged>, times: { done?: number; settled?: number } = {}): TrackedWorkflow {
  return {
    workflowId,
    publishedAtMs: 1_000,
    settledAtMs: times.settled ?? times.done ?? null,
    doneAtMs: times.done ?? null,
    traceId: null,
    last: { workflowType: 'claim-processing', version: 1, status: 'done', stateValue: 'closed', statePaths: ['closed'], eventType: 'claim.audited', tags: {}, pendingApproval: null, ...last },
  };
}

const labels: Record<string, ExpectedClaimOutcome> = {
  a: { scenario: 'routine', severity: 'low', route: 'auto', outcome: 'approved' },
  b: { scenario: 'excluded-medium', severity: 'medium', route: 'senior-agent', outcome: 'rejected' },
  c: { scenario: 'injury', severity: 'high', route: 'human', outcome: null },
  d: { scenario: 'over-threshold', severity: 'medium', route: 'human', outcome: null },
};

describe('claims report', () => {
  it('scores severity, route and labelled outcome, counts a pending gate as the human route, and sums tokens into cost', () => {
    const report = buildClaimsReport(
      [
        tracked('a', { tags: { severity: 'low', route: 'auto', outcome: 'approved', modelCalls: '4', inputTokens: '1000', outputTokens: '200' } }, { done: 1_500 }),
        tracked('b', { tags: { severity: 'medium', route: 'senior-agent', outcome: 'approved' } }, { done: 2_000 }),
        tracked('c', { tags: { severity: 'high', route: 'manager', outcome: 'approved' } }, { done: 3_000 }),
        tracked(
          'd',
          {
            status: 'active',
            stateValue: 'humanReview',
            statePaths: ['humanReview'],
            tags: { severity: 'medium' },
            pendingApproval: { gateId: 'd:claim-review', gate: 'claim-review', proposed: null, reason: '', allowedRoles: ['approver'], requestedAt: '2026-01-01T00:00:00.000Z', deadlineAt: null, onDeadline: null },
          },
          { settled: 1_200 },
        ),
      ],
      (id) => ({ claimId: id, expected: labels[id] }),
      { startedAtMs: 0, finishedAtMs: 4_000, price: { inputUsdPerMillionTokens: 1, outputUsdPerMillionTokens: 10 } },
    );
    expect(report.succeeded).toBe(3);
    expect(report.successRate).toBe(0.75);
    expect(report.mismatches.map((m) => m.workflowId)).toEqual(['b']);
    expect(report.outcomesCompared).toBe(2);
    expect(report.outcomeAccuracy).toBe(0.5);
    expect(report.pendingApprovals).toBe(1);
    expect(report.byState).toEqual({ closed: 3, humanReview: 1 });
    expect(report.latencyMs.all).toMatchObject({ count: 3, p50: 1_000, max: 2_000 });
    expect(report.latencyMs.auto).toMatchObject({ count: 1, p50: 500 });
    expect(report.costUsd).toBeCloseTo((1_000 * 1 + 200 * 10) / 1_000_000, 12);
  });

  it('reports an unknown cost when models were called without a known price, and zero when none was called', () => {
    const call = tracked('a', { tags: { severity: 'low', route: 'auto', outcome: 'approved', modelCalls: '1', inputTokens: '5', outputTokens: '5' } }, { done: 2_000 });
    expect(buildClaimsReport([call], () => ({ claimId: 'a', expected: labels.a }), { startedAtMs: 0, finishedAtMs: 1, price: null }).costUsd).toBeNull();
    const offline = tracked('a', { tags: { severity: 'low', route: 'auto', outcome: 'approved' } }, { done: 2_000 });
    expect(buildClaimsReport([offline], () => ({ claimId: 'a', expected: labels.a }), { startedAtMs: 0, finishedAtMs: 1, price: null }).costUsd).toBe(0);
  });
});
