import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import type { Email } from '@troupe/contracts';
import { EMAIL_TRIAGE_V3_TO_V4, emailTriageMachine, emailTriageV3Machine, triageGateId, type EmailTriageEvent } from '@troupe/statecharts';

const email: Email = { messageId: '<m1@example.org>', from: 'ann@example.org', to: 'me@example.org', subject: 'Hi', date: null, text: 'Hello', headers: {}, origin: {} };
const input = { workflowId: 'wf-1', email, confidenceThreshold: 0.8, approvalTimeoutMs: 2_000, escalationTimeoutMs: 5_000 };
const classified = (label: 'spam' | 'ham', confidence: number) => ({ type: 'email.classified', payload: { label, confidence, classifier: 'test' } });
const routed = (route: 'summarise' | 'draft_reply') => ({ type: 'email.routed', payload: { route, confidence: 0.9, reason: 'test', router: 'test' } });
const drafted = { type: 'reply.drafted', payload: { to: 'ann@example.org', subject: 'Re: Hi', body: 'Hello!', reasoning: 'friendly', drafter: 'test' } };
const approved = {
  type: 'approval.decided',
  payload: { gateId: triageGateId('wf-1', 'reply-approval'), decision: 'approved', approver: { id: 'alice', roles: ['approver'] }, comment: null, editedText: null },
};
const after = (delay: string, state: string) => ({ type: `xstate.after.${delay}.email-triage.${state}` });
const agentFailed = { type: 'effect.failed', payload: { effectId: 'e', kind: 'agent.task', reason: 'model down' } };

function run(machine: AnyStateMachine, events: Array<{ type: string }>): AnyMachineSnapshot {
  let [snapshot] = initialTransition(machine, input) as [AnyMachineSnapshot, unknown];
  for (const event of events) [snapshot] = transition(machine, snapshot as never, event as never) as [AnyMachineSnapshot, unknown];
  return snapshot;
}

/** How a v3 instance reaches each of its running states. */
const V3_PATHS: Record<string, Array<{ type: string }>> = {
  classifying: [],
  humanReview: [classified('ham', 0.6)],
  reviewEscalated: [classified('ham', 0.6), after('approvalTimeout', 'humanReview')],
  quarantining: [classified('spam', 0.99)],
  routing: [classified('ham', 0.95)],
  summarising: [classified('ham', 0.95), routed('summarise')],
  drafting: [classified('ham', 0.95), routed('draft_reply')],
  awaitingApproval: [classified('ham', 0.95), routed('draft_reply'), drafted],
  escalated: [classified('ham', 0.95), routed('draft_reply'), drafted, after('approvalTimeout', 'awaitingApproval')],
  sending: [classified('ham', 0.95), routed('draft_reply'), drafted, approved],
};

/** Moves a v3 snapshot as `migrateWorkflows` does: map state and context, resolve in v4. */
function migrate(v3: AnyMachineSnapshot): AnyMachineSnapshot {
  const persisted = emailTriageV3Machine.getPersistedSnapshot(v3) as unknown as { context: unknown };
  const mapped = EMAIL_TRIAGE_V3_TO_V4.mapState(v3.value as string);
  if ('refuse' in mapped) throw new Error(mapped.refuse);
  return emailTriageMachine.resolveState({ ...persisted, value: mapped.stateValue, context: EMAIL_TRIAGE_V3_TO_V4.mapContext(persisted.context) } as never) as AnyMachineSnapshot;
}

describe('email-triage@3 -> @4 migration', () => {
  it('moves every running v3 state to the same v4 state, with no agent failures', () => {
    for (const [state, events] of Object.entries(V3_PATHS)) {
      const v3 = run(emailTriageV3Machine, events);
      expect(v3.value, state).toBe(state);
      const v4 = migrate(v3);
      expect(v4.value, state).toBe(state);
      expect(v4.status).toBe('active');
      expect(v4.hasTag('approval')).toBe(v3.hasTag('approval'));
      expect(v4.context).toEqual({ ...v3.context, agentFailures: [] });
    }
  });

  it('gives a moved instance v4 handling: a drafter failure goes to a human where v3 would fail', () => {
    const v3 = run(emailTriageV3Machine, V3_PATHS.drafting);
    expect(transition(emailTriageV3Machine, v3 as never, agentFailed as never)[0].value).toBe('failed');
    const [moved] = transition(emailTriageMachine, migrate(v3) as never, agentFailed as EmailTriageEvent) as unknown as [AnyMachineSnapshot];
    expect(moved.value).toBe('awaitingApproval');
    expect(moved.context.agentFailures).toEqual([{ agent: 'drafter', effectId: 'e', reason: 'model down' }]);
  });

  it('keeps the pending deadline of a moved gate (same delayed event type in v4)', () => {
    const [escalated] = transition(emailTriageMachine, migrate(run(emailTriageV3Machine, V3_PATHS.awaitingApproval)) as never, after('approvalTimeout', 'awaitingApproval') as never);
    expect(escalated.value).toBe('escalated');
  });

  it('refuses a state v3 is not running in, and a context that is not v3', () => {
    expect(EMAIL_TRIAGE_V3_TO_V4.mapState('sent')).toEqual({ refuse: expect.stringContaining('"sent" is not a running state of v3') });
    expect(EMAIL_TRIAGE_V3_TO_V4.mapState({ drafting: 'waiting' })).toMatchObject({ refuse: expect.any(String) });
    expect(() => EMAIL_TRIAGE_V3_TO_V4.mapContext({ count: 1 })).toThrow('not an email-triage@3 context');
    expect(() => EMAIL_TRIAGE_V3_TO_V4.mapContext({ ...run(emailTriageMachine, []).context })).toThrow('already has agentFailures');
  });
});
