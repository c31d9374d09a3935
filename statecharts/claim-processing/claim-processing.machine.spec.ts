import { describe, expect, it } from 'vitest';
import { SimulatedClock, createActor, initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import type { ApprovalDecided, Claim, ClaimDetails, ClaimSeverity, Effect } from '@troupe/contracts';
import { claimGateId, claimProcessingMachine, claimProcessingTags, type ClaimGate, type ClaimProcessingContext, type ClaimProcessingEvent } from '@troupe/statecharts';

const claim: Claim = {
  claimId: 'CLM-1',
  claimant: { name: 'Ann Example', email: 'ann@example.org' },
  text: 'Policy P-1. Rear-ended at a light on 2026-03-02. Claiming $1,200.00.',
  origin: { corpus: 'test' },
};
const workflowId = 'claim-1';
const input = { workflowId, claim, reviewThresholdUsd: 10_000, reviewTimeoutMs: 2_000, escalationTimeoutMs: 5_000 };
/** The budget every task carries, as claim-processing.workflow.yaml declares it. */
const budget = { maxCostUsd: 0.05, maxTokens: 20_000, maxModelCalls: 8 };

type Action = { type: string; params?: unknown };
let lastActions: Action[] = [];

function effectsOf(actions: Action[]): Effect[] {
  lastActions = actions;
  return actions.filter((a) => a.type === 'requestEffect').map((a) => a.params as Effect);
}

function run(events: ClaimProcessingEvent[]): { snapshot: AnyMachineSnapshot; context: ClaimProcessingContext; effects: Effect[][] } {
  let [snapshot, actions] = initialTransition(claimProcessingMachine, input) as [AnyMachineSnapshot, Action[]];
  const effects = [effectsOf(actions)];
  for (const event of events) {
    [snapshot, actions] = transition(claimProcessingMachine, snapshot as never, event) as unknown as [AnyMachineSnapshot, Action[]];
    effects.push(effectsOf(actions));
  }
  return { snapshot, context: snapshot.context as ClaimProcessingContext, effects };
}

const details = (overrides: Partial<ClaimDetails> = {}): ClaimDetails => ({
  policyNumber: 'P-1',
  claimType: 'auto',
  incidentDate: '2026-03-02',
  amountUsd: 1_200,
  injuries: false,
  policeReport: false,
  description: 'Rear-ended at a light.',
  ...overrides,
});
const extracted = (overrides: Partial<ClaimDetails> = {}): ClaimProcessingEvent => ({
  type: 'claim.extracted',
  payload: { details: details(overrides), extractor: 'test', usage: null },
});
const classified = (severity: ClaimSeverity): ClaimProcessingEvent => ({ type: 'claim.classified', payload: { severity, reason: 'test', classifier: 'test', usage: null } });
const reviewed = (outcome: 'approved' | 'rejected'): ClaimProcessingEvent => ({
  type: 'claim.reviewed',
  payload: { outcome, approvedAmountUsd: outcome === 'approved' ? 1_200 : 0, reason: 'senior says so', reviewer: 'senior-test', usage: null },
});
const decision = (gate: ClaimGate, overrides: Partial<ApprovalDecided> = {}): ClaimProcessingEvent => ({
  type: 'approval.decided',
  payload: { gateId: claimGateId(workflowId, gate), decision: 'approved', approver: { id: 'alice', roles: ['approver'] }, comment: null, editedText: null, ...overrides },
});
const letter: ClaimProcessingEvent = { type: 'claim.letter_generated', payload: { subject: 'Your claim CLM-1', body: 'Dear Ann', writer: 'test', usage: null } };
const notified: ClaimProcessingEvent = { type: 'claim.notified', payload: { idempotencyKey: 'n-1', notifiedAt: '2026-03-03T00:00:00.000Z', firstDelivery: true } };
const audited: ClaimProcessingEvent = { type: 'claim.audited', payload: { idempotencyKey: 'a-1', recordedAt: '2026-03-03T00:00:01.000Z', firstDelivery: true } };
const reviewDeadline = { type: 'xstate.after.reviewTimeout.claim-processing.humanReview' } as unknown as ClaimProcessingEvent;
const escalationDeadline = { type: 'xstate.after.escalationTimeout.claim-processing.reviewEscalated' } as unknown as ClaimProcessingEvent;

describe('claim-processing machine', () => {
  it('starts extracting and asks the extractor agent for the claim details', () => {
    const { snapshot, effects } = run([]);
    expect(snapshot.value).toBe('extracting');
    expect(effects[0]).toEqual([{ kind: 'agent.task', agent: 'claims-extractor', task: 'claim.extract', input: { claim }, limits: { budget, model: { temperature: 0, maxOutputTokens: 600 } } }]);
  });

  it('asks the assessor to classify the extracted details', () => {
    const { snapshot, context, effects } = run([extracted()]);
    expect(snapshot.value).toBe('classifying');
    expect(context.details?.amountUsd).toBe(1_200);
    expect(effects[1]).toEqual([{ kind: 'agent.task', agent: 'claims-assessor', task: 'claim.classify', input: { claimId: 'CLM-1', details: details() }, limits: { budget, model: { temperature: 0, maxOutputTokens: 300 } } }]);
  });

  it('auto-approves a low-severity claim within the threshold, then writes the letter, notifies and audits', () => {
    const { snapshot, context, effects } = run([extracted(), classified('low'), letter, notified, audited]);
    expect(snapshot.value).toBe('closed');
    expect(snapshot.status).toBe('done');
    expect(context.decision).toMatchObject({ outcome: 'approved', approvedAmountUsd: 1_200, decidedBy: 'system:auto-approve', route: 'auto' });
    expect(effects[2]).toEqual([
      { kind: 'agent.task', agent: 'claims-letter-writer', task: 'claim.letter', input: { claim, details: details(), decision: context.decision }, limits: { budget, model: { temperature: 0.3, maxOutputTokens: 1_200 } } },
    ]);
    expect(effects[3]).toEqual([
      { kind: 'agent.task', agent: 'claims-notifier', task: 'claim.notify', input: { claimId: 'CLM-1', to: 'ann@example.org', subject: 'Your claim CLM-1', body: 'Dear Ann' }, limits: { budget } },
    ]);
    expect(effects[4]).toEqual([
      {
        kind: 'agent.task',
        agent: 'claims-auditor',
        task: 'claim.audit',
        input: { claimId: 'CLM-1', severity: 'low', decision: context.decision, details: details(), notificationKey: 'n-1' },
        limits: { budget },
      },
    ]);
    expect(context.audit?.idempotencyKey).toBe('a-1');
  });

  it('sends a medium-severity claim to the senior reviewer agent and follows its approval', () => {
    const { snapshot, context, effects } = run([extracted(), classified('medium')]);
    expect(snapshot.value).toBe('seniorReview');
    expect(effects[2]).toEqual([{ kind: 'agent.task', agent: 'claims-senior-reviewer', task: 'claim.review', input: { claimId: 'CLM-1', details: details() }, limits: { budget, model: { temperature: 0, maxOutputTokens: 400 } } }]);
    expect(context.decision).toBeNull();
    const after = run([extracted(), classified('medium'), reviewed('approved')]);
    expect(after.snapshot.value).toBe('generatingLetter');
    expect(after.context.decision).toMatchObject({ outcome: 'approved', decidedBy: 'senior-test', route: 'senior-agent' });
  });

  it('records a senior reviewer rejection as the decision the letter carries', () => {
    const { snapshot, context } = run([extracted(), classified('medium'), reviewed('rejected'), letter, notified, audited]);
    expect(snapshot.value).toBe('closed');
    expect(context.decision).toMatchObject({ outcome: 'rejected', approvedAmountUsd: 0, route: 'senior-agent' });
  });

  it('asks a human to review a high-severity claim, approvers and admins allowed', () => {
    const { snapshot, effects } = run([extracted(), classified('high')]);
    expect(snapshot.value).toBe('humanReview');
    expect(snapshot.hasTag('approval')).toBe(true);
    expect(effects[2]).toEqual([
      expect.objectContaining({ kind: 'approval.request', gateId: 'claim-1:claim-review', gate: 'claim-review', allowedRoles: ['approver', 'admin'] }),
    ]);
    expect(lastActions).toContainEqual(expect.objectContaining({ type: 'xstate.raise', params: expect.objectContaining({ delay: 2_000, event: reviewDeadline }) }));
  });

  it('asks a human to review a low-severity claim whose amount is over the threshold', () => {
    const { snapshot } = run([extracted({ amountUsd: 10_000.01 }), classified('low')]);
    expect(snapshot.value).toBe('humanReview');
    expect(run([extracted({ amountUsd: 10_000 }), classified('low')]).snapshot.value).toBe('generatingLetter');
    expect(run([extracted({ amountUsd: 25_000 }), classified('medium')]).snapshot.value).toBe('humanReview');
  });

  it('pays the claimed amount when the reviewer approves', () => {
    const { snapshot, context } = run([extracted(), classified('high'), decision('claim-review'), letter, notified, audited]);
    expect(snapshot.value).toBe('closed');
    expect(context.decision).toMatchObject({ outcome: 'approved', approvedAmountUsd: 1_200, decidedBy: 'alice', route: 'human' });
    expect(context.humanDecision).toEqual({ gateId: 'claim-1:claim-review', decision: 'approved', approverId: 'alice', comment: null });
  });

  it('declines the claim when the reviewer rejects, with the comment as the reason', () => {
    const { context } = run([extracted(), classified('high'), decision('claim-review', { decision: 'rejected', comment: 'Not covered.' })]);
    expect(context.decision).toMatchObject({ outcome: 'rejected', approvedAmountUsd: 0, reason: 'Not covered.' });
  });

  it('pays the edited amount when the reviewer edits, and refuses an edit that names no amount', () => {
    const edited = run([extracted(), classified('high'), decision('claim-review', { decision: 'edited', editedText: '$900.50' })]);
    expect(edited.snapshot.value).toBe('generatingLetter');
    expect(edited.context.decision).toMatchObject({ outcome: 'approved', approvedAmountUsd: 900.5 });
    const wordy = run([extracted(), classified('high')]);
    expect(wordy.snapshot.can(decision('claim-review', { decision: 'edited', editedText: 'pay less' }))).toBe(false);
  });

  it('refuses a decision by a viewer or for another gate', () => {
    const { snapshot } = run([extracted(), classified('high')]);
    expect(snapshot.can(decision('claim-review', { approver: { id: 'vic', roles: ['viewer'] } }))).toBe(false);
    expect(snapshot.can(decision('claim-review-escalated', { approver: { id: 'root', roles: ['admin'] } }))).toBe(false);
  });

  it('escalates to a manager (admin only) when the review deadline passes', () => {
    const { snapshot, effects } = run([extracted(), classified('high'), reviewDeadline]);
    expect(snapshot.value).toBe('reviewEscalated');
    expect(effects[3]).toEqual([expect.objectContaining({ kind: 'approval.request', gate: 'claim-review-escalated', allowedRoles: ['admin'] })]);
    expect(snapshot.can(decision('claim-review-escalated'))).toBe(false);
    const managed = run([extracted(), classified('high'), reviewDeadline, decision('claim-review-escalated', { approver: { id: 'root', roles: ['admin'] } })]);
    expect(managed.context.decision).toMatchObject({ outcome: 'approved', decidedBy: 'root', route: 'manager' });
  });

  it('refers the claim to the committee when the escalation deadline passes too', () => {
    const { snapshot, context } = run([extracted(), classified('high'), reviewDeadline, escalationDeadline, letter, notified, audited]);
    expect(snapshot.value).toBe('closed');
    expect(context.decision).toMatchObject({ outcome: 'referred', decidedBy: 'system:deadline', route: 'deadline' });
  });

  it('adds up the model usage the agents report, and tags the totals', () => {
    const usage = { model: 'openai/gpt-test', inputTokens: 100, outputTokens: 20 };
    const { context } = run([
      { type: 'claim.extracted', payload: { details: details(), extractor: 'model', usage } },
      { type: 'claim.classified', payload: { severity: 'low', reason: 'small', classifier: 'model', usage: { ...usage, outputTokens: null } } },
    ]);
    expect(context.modelUsage).toEqual([usage, { ...usage, outputTokens: null }]);
    expect(claimProcessingTags(context)).toMatchObject({ modelCalls: '2', inputTokens: '200', outputTokens: '20', severity: 'low', outcome: 'approved', route: 'auto' });
    expect(claimProcessingTags(run([extracted()]).context)).not.toHaveProperty('modelCalls');
  });

  it('fails when an effect fails for good', () => {
    const { snapshot, context } = run([extracted(), { type: 'effect.failed', payload: { effectId: 'e1', kind: 'agent.task', reason: 'boom' } }]);
    expect(snapshot.value).toBe('failed');
    expect(context.failure).toBe('agent.task e1 failed: boom');
  });

  it('is cancelled by workflow.cancel_requested while waiting for a human', () => {
    const { snapshot, context } = run([
      extracted(),
      classified('high'),
      { type: 'workflow.cancel_requested', payload: { reason: 'duplicate claim', requestedBy: { id: 'ops', roles: ['operator'] } } },
    ]);
    expect(snapshot.value).toBe('cancelled');
    expect(context.cancellation).toEqual({ reason: 'duplicate claim', requestedBy: 'ops' });
  });

  it('runs both deadlines on a simulated clock: escalated after reviewTimeoutMs, referred after escalationTimeoutMs more', () => {
    const clock = new SimulatedClock();
    const actor = createActor(claimProcessingMachine, { input, clock }).start();
    actor.send(extracted());
    actor.send(classified('high'));
    clock.increment(1_999);
    expect(actor.getSnapshot().value).toBe('humanReview');
    clock.increment(1);
    expect(actor.getSnapshot().value).toBe('reviewEscalated');
    clock.increment(4_999);
    expect(actor.getSnapshot().value).toBe('reviewEscalated');
    clock.increment(1);
    expect(actor.getSnapshot().value).toBe('generatingLetter');
    expect(actor.getSnapshot().context.decision?.outcome).toBe('referred');
    actor.stop();
  });
});
