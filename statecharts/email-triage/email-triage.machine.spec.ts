import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import type { ApprovalDecided, Effect, Email } from '@troupe/contracts';
import { emailTriageMachine, emailTriageTags, triageGateId, type EmailTriageEvent, type TriageGate } from '@troupe/statecharts';

const email: Email = {
  messageId: '<m1@example.org>',
  from: 'Ann <ann@example.org>',
  to: 'me@example.org',
  subject: 'Lunch on Friday?',
  date: null,
  text: 'Are you free on Friday?',
  headers: {},
  origin: {},
};
const workflowId = 'wf-1';

function start() {
  return initialTransition(emailTriageMachine, { workflowId, email, confidenceThreshold: 0.8, approvalTimeoutMs: 2_000, escalationTimeoutMs: 5_000 });
}

let lastActions: Array<{ type: string; params?: unknown }> = [];

function effectsOf(actions: Array<{ type: string; params?: unknown }>): Effect[] {
  lastActions = actions;
  return actions.filter((a) => a.type === 'requestEffect').map((a) => a.params as Effect);
}

function run(events: EmailTriageEvent[]): { snapshot: AnyMachineSnapshot; effects: Effect[][] } {
  let [snapshot, actions] = start() as [AnyMachineSnapshot, Array<{ type: string; params?: unknown }>];
  const effects = [effectsOf(actions)];
  for (const event of events) {
    [snapshot, actions] = transition(emailTriageMachine, snapshot as never, event) as unknown as [AnyMachineSnapshot, Array<{ type: string; params?: unknown }>];
    effects.push(effectsOf(actions));
  }
  return { snapshot, effects };
}

/** A decision at `gate` as entered after `round` agent failures (see triageGateId). */
const decision = (gate: TriageGate, overrides: Partial<ApprovalDecided> = {}, round = 0): EmailTriageEvent => ({
  type: 'approval.decided',
  payload: {
    gateId: triageGateId(workflowId, gate, round),
    decision: 'approved',
    approver: { id: 'alice', roles: ['approver'] },
    comment: null,
    editedText: null,
    ...overrides,
  },
});

const classified = (label: 'spam' | 'ham', confidence: number): EmailTriageEvent => ({
  type: 'email.classified',
  payload: { label, confidence, classifier: 'test' },
});
const routed = (route: 'summarise' | 'draft_reply'): EmailTriageEvent => ({
  type: 'email.routed',
  payload: { route, confidence: 0.9, reason: 'test', router: 'test' },
});
const drafted: EmailTriageEvent = {
  type: 'reply.drafted',
  payload: { to: 'ann@example.org', subject: 'Re: Lunch on Friday?', body: 'Yes!', reasoning: 'friendly', drafter: 'test' },
};

describe('email-triage machine', () => {
  it('starts classifying and asks the classifier agent', () => {
    const { snapshot, effects } = run([]);
    expect(snapshot.value).toBe('classifying');
    expect(effects[0]).toEqual([{ kind: 'agent.task', agent: 'classifier', task: 'email.classify', input: { email } }]);
  });

  it('hands confident spam to the spam-quarantine agent instead of routing it, and ends quarantined', () => {
    const { snapshot, effects } = run([classified('spam', 0.99)]);
    expect(snapshot.value).toBe('quarantining');
    expect(effects[1]).toEqual([
      {
        kind: 'agent.task',
        agent: 'spam-quarantine',
        task: 'email.quarantine',
        input: { email, classification: { label: 'spam', confidence: 0.99, classifier: 'test' }, reviewedBy: null },
      },
    ]);
    const quarantined = { folder: 'quarantine' as const, reason: 'spam', senderMessageCount: null, quarantinedBy: 'test' };
    const done = run([classified('spam', 0.99), { type: 'email.quarantined', payload: quarantined }]);
    expect(done.snapshot.value).toBe('quarantined');
    expect(done.snapshot.status).toBe('done');
    expect(done.snapshot.context.quarantine).toEqual(quarantined);
    expect(done.effects[2]).toEqual([]);
  });

  it('sends a low-confidence classification to human review instead of routing', () => {
    const { snapshot, effects } = run([classified('ham', 0.6)]);
    expect(snapshot.value).toBe('humanReview');
    expect(effects[1]).toMatchObject([{ kind: 'approval.request', gate: 'classification-review', allowedRoles: ['approver', 'admin'] }]);
  });

  it('quarantines what a reviewer confirms as spam, naming the reviewer to the quarantine agent', () => {
    const { snapshot, effects } = run([classified('ham', 0.6), decision('classification-review', { decision: 'edited', editedText: 'spam' })]);
    expect(snapshot.value).toBe('quarantining');
    expect(effects[2]).toMatchObject([{ kind: 'agent.task', agent: 'spam-quarantine', input: { reviewedBy: 'alice' } }]);
  });

  it('routes after a reviewer flips a low-confidence spam label to ham', () => {
    const { snapshot, effects } = run([classified('spam', 0.6), decision('classification-review', { decision: 'rejected' })]);
    expect(snapshot.value).toBe('routing');
    expect(snapshot.context.label).toBe('ham');
    expect(effects[2]).toMatchObject([{ kind: 'agent.task', agent: 'supervisor' }]);
  });

  it('summarises list mail the supervisor routes to the summariser', () => {
    const { snapshot } = run([
      classified('ham', 0.95),
      routed('summarise'),
      { type: 'email.summarised', payload: { summary: 'digest', summariser: 'test' } },
    ]);
    expect(snapshot.value).toBe('summarised');
    expect(snapshot.status).toBe('done');
  });

  it('never sends a drafted reply before a human approves it', () => {
    const { snapshot, effects } = run([classified('ham', 0.95), routed('draft_reply'), drafted]);
    expect(snapshot.value).toBe('awaitingApproval');
    expect(effects.flat().some((e) => e.kind === 'reply.send')).toBe(false);
  });

  it('sends the approved draft and ends in sent', () => {
    const { snapshot, effects } = run([
      classified('ham', 0.95),
      routed('draft_reply'),
      drafted,
      decision('reply-approval'),
      { type: 'reply.sent', payload: { idempotencyKey: 'k', sentAt: '2026-01-01T00:00:00.000Z', firstDelivery: true } },
    ]);
    expect(effects[4]).toEqual([
      { kind: 'reply.send', to: 'ann@example.org', subject: 'Re: Lunch on Friday?', body: 'Yes!', inReplyTo: '<m1@example.org>' },
    ]);
    expect(snapshot.value).toBe('sent');
  });

  it('sends the edited text when the approver edits the draft', () => {
    const { effects } = run([
      classified('ham', 0.95),
      routed('draft_reply'),
      drafted,
      decision('reply-approval', { decision: 'edited', editedText: 'Yes, at noon.' }),
    ]);
    expect(effects[4]).toMatchObject([{ kind: 'reply.send', body: 'Yes, at noon.' }]);
  });

  it('ends in rejected when the approver rejects the draft', () => {
    const { snapshot } = run([classified('ham', 0.95), routed('draft_reply'), drafted, decision('reply-approval', { decision: 'rejected' })]);
    expect(snapshot.value).toBe('rejected');
  });

  it('ignores a decision from a principal without an allowed role', () => {
    const { snapshot, effects } = run([
      classified('ham', 0.95),
      routed('draft_reply'),
      drafted,
      decision('reply-approval', { approver: { id: 'eve', roles: ['viewer'] } }),
    ]);
    expect(snapshot.value).toBe('awaitingApproval');
    expect(effects[4]).toEqual([]);
  });

  it('ignores a decision that names another gate', () => {
    const { snapshot } = run([classified('ham', 0.95), routed('draft_reply'), drafted, decision('classification-review')]);
    expect(snapshot.value).toBe('awaitingApproval');
  });

  describe('an agent task that fails for good goes to a human (v4)', () => {
    const agentFailed = (reason: string, effectId = 'wf-1:2:0'): EmailTriageEvent => ({ type: 'effect.failed', payload: { effectId, kind: 'agent.task', reason } });
    const sent: EmailTriageEvent = { type: 'reply.sent', payload: { idempotencyKey: 'k', sentAt: '2026-01-01T00:00:00.000Z', firstDelivery: true } };

    it('asks a reviewer for the label when the classifier fails, with the failure as the reason and nothing proposed', () => {
      const { snapshot, effects } = run([agentFailed('model down past the fallback chain', 'wf-1:1:0')]);
      expect(snapshot.value).toBe('humanReview');
      expect(snapshot.hasTag('approval')).toBe(true);
      expect(snapshot.context.agentFailures).toEqual([{ agent: 'classifier', effectId: 'wf-1:1:0', reason: 'model down past the fallback chain' }]);
      expect(snapshot.context.failure).toBeNull();
      expect(effects[1]).toEqual([
        expect.objectContaining({
          kind: 'approval.request',
          gate: 'classification-review',
          proposed: { label: null, confidence: null },
          reason: expect.stringContaining('The classifier agent failed (email.classify, effect wf-1:1:0): model down past the fallback chain.'),
        }),
      ]);
      // No proposal to approve or flip: only a label named by an edit moves it.
      expect(snapshot.can(decision('classification-review', {}, 1))).toBe(false);
      expect(snapshot.can(decision('classification-review', { decision: 'rejected' }, 1))).toBe(false);
      const ham = run([agentFailed('down'), decision('classification-review', { decision: 'edited', editedText: 'ham' }, 1)]);
      expect(ham.snapshot.value).toBe('routing');
      expect(ham.snapshot.context.label).toBe('ham');
      const spam = run([agentFailed('down'), decision('classification-review', { decision: 'edited', editedText: 'Spam' }, 1)]);
      expect(spam.snapshot.value).toBe('quarantining');
      expect(spam.effects[2]).toMatchObject([{ kind: 'agent.task', agent: 'spam-quarantine', input: { classification: null, reviewedBy: 'alice' } }]);
    });

    it('keeps the review deadlines after a classifier failure: escalated to admins, then set aside unreviewed', () => {
      const reviewDeadline = { type: 'xstate.after.approvalTimeout.email-triage.humanReview' } as unknown as EmailTriageEvent;
      const escalationDeadline = { type: 'xstate.after.escalationTimeout.email-triage.reviewEscalated' } as unknown as EmailTriageEvent;
      const escalated = run([agentFailed('down'), reviewDeadline]);
      expect(escalated.snapshot.value).toBe('reviewEscalated');
      expect(escalated.effects[2]).toMatchObject([{ gate: 'classification-review-escalated', allowedRoles: ['admin'], reason: expect.stringContaining('the email is quarantined unreviewed') }]);
      const expired = run([agentFailed('down'), reviewDeadline, escalationDeadline]);
      expect(expired.snapshot.value).toBe('quarantining');
      expect(expired.snapshot.context.reviewDecision).toMatchObject({ approverId: 'system:deadline' });
    });

    it('asks a reviewer when the router fails: approving the ham label drafts a reply (gated as usual), rejecting quarantines', () => {
      const { snapshot, effects } = run([classified('ham', 0.95), agentFailed('budget exhausted')]);
      expect(snapshot.value).toBe('humanReview');
      expect(snapshot.context.agentFailures).toMatchObject([{ agent: 'supervisor', reason: 'budget exhausted' }]);
      expect(effects[2]).toMatchObject([
        { kind: 'approval.request', gate: 'classification-review', proposed: { label: 'ham', confidence: 0.95 }, reason: expect.stringContaining('The supervisor agent failed (email.route') },
      ]);
      const approved = run([classified('ham', 0.95), agentFailed('budget exhausted'), decision('classification-review', {}, 1)]);
      expect(approved.snapshot.value).toBe('drafting');
      expect(approved.effects[3]).toEqual([{ kind: 'agent.task', agent: 'drafter', task: 'reply.draft', input: { email } }]);
      const done = run([classified('ham', 0.95), agentFailed('budget exhausted'), decision('classification-review', {}, 1), drafted, decision('reply-approval', {}, 1), sent]);
      expect(done.snapshot.value).toBe('sent');
      const rejected = run([classified('ham', 0.95), agentFailed('budget exhausted'), decision('classification-review', { decision: 'rejected' }, 1)]);
      expect(rejected.snapshot.value).toBe('quarantining');
      expect(rejected.snapshot.context.label).toBe('spam');
    });

    it('asks a human to write the reply when the drafter fails: edit-and-continue sends it, approve has no draft and is refused', () => {
      const { snapshot, effects } = run([classified('ham', 0.95), routed('draft_reply'), agentFailed('invalid output after 3 attempts')]);
      expect(snapshot.value).toBe('awaitingApproval');
      expect(snapshot.context.draft).toBeNull();
      expect(effects[3]).toEqual([
        expect.objectContaining({
          kind: 'approval.request',
          gate: 'reply-approval',
          proposed: null,
          reason: expect.stringMatching(/^The drafter agent failed \(reply\.draft, effect wf-1:2:0\): invalid output after 3 attempts\. No draft to approve/),
          allowedRoles: ['approver', 'admin'],
        }),
      ]);
      expect(snapshot.can(decision('reply-approval', {}, 1))).toBe(false);
      expect(snapshot.can(decision('reply-approval', { decision: 'edited', editedText: '  ' }, 1))).toBe(false);
      const written = run([
        classified('ham', 0.95),
        routed('draft_reply'),
        agentFailed('invalid output after 3 attempts'),
        decision('reply-approval', { decision: 'edited', editedText: 'See you Friday.' }, 1),
        sent,
      ]);
      expect(written.effects[4]).toEqual([{ kind: 'reply.send', to: email.from, subject: 'Re: Lunch on Friday?', body: 'See you Friday.', inReplyTo: '<m1@example.org>' }]);
      expect(written.snapshot.value).toBe('sent');
      expect(written.snapshot.context.replyDecision).toMatchObject({ decision: 'edited', approverId: 'alice' });
    });

    it('keeps the reply deadlines after a drafter failure: escalated to admins with the failure, then no reply', () => {
      const approvalDeadline = { type: 'xstate.after.approvalTimeout.email-triage.awaitingApproval' } as unknown as EmailTriageEvent;
      const escalationDeadline = { type: 'xstate.after.escalationTimeout.email-triage.escalated' } as unknown as EmailTriageEvent;
      const failedDraft = [classified('ham', 0.95), routed('draft_reply'), agentFailed('model down')];
      const escalated = run([...failedDraft, approvalDeadline]);
      expect(escalated.snapshot.value).toBe('escalated');
      expect(escalated.effects[4]).toMatchObject([{ gate: 'reply-approval-escalated', allowedRoles: ['admin'], proposed: null, reason: expect.stringContaining('The drafter agent failed') }]);
      const byAdmin = run([...failedDraft, approvalDeadline, decision('reply-approval-escalated', { decision: 'edited', editedText: 'Yes.', approver: { id: 'root', roles: ['admin'] } }, 1)]);
      expect(byAdmin.snapshot.value).toBe('sending');
      const expired = run([...failedDraft, approvalDeadline, escalationDeadline]);
      expect(expired.snapshot.value).toBe('rejected');
    });

    it('asks a human to read the email when the summariser fails: write a reply, or reject to send none', () => {
      const failedSummary = [classified('ham', 0.95), routed('summarise'), agentFailed('model down')];
      const { snapshot, effects } = run(failedSummary);
      expect(snapshot.value).toBe('awaitingApproval');
      expect(effects[3]).toMatchObject([{ kind: 'approval.request', gate: 'reply-approval', proposed: null, reason: expect.stringContaining('The summariser agent failed (email.summarise') }]);
      expect(run([...failedSummary, decision('reply-approval', { decision: 'rejected' }, 1)]).snapshot.value).toBe('rejected');
      expect(run([...failedSummary, decision('reply-approval', { decision: 'edited', editedText: 'Noted.' }, 1)]).effects[4]).toMatchObject([{ kind: 'reply.send', body: 'Noted.' }]);
    });

    it('asks a reviewer when the quarantine agent fails: spam asks it again, ham routes, and an expired escalation fails the workflow', () => {
      const failedQuarantine = [classified('spam', 0.99), agentFailed('mailbox unavailable')];
      const { snapshot, effects } = run(failedQuarantine);
      expect(snapshot.value).toBe('humanReview');
      expect(effects[2]).toMatchObject([{ gate: 'classification-review', proposed: { label: 'spam' }, reason: expect.stringContaining('The spam-quarantine agent failed') }]);
      const again = run([...failedQuarantine, decision('classification-review', {}, 1)]);
      expect(again.snapshot.value).toBe('quarantining');
      expect(again.effects[3]).toMatchObject([{ kind: 'agent.task', agent: 'spam-quarantine', input: { reviewedBy: 'alice' } }]);
      expect(run([...failedQuarantine, decision('classification-review', { decision: 'rejected' }, 1)]).snapshot.value).toBe('routing');
      const reviewDeadline = { type: 'xstate.after.approvalTimeout.email-triage.humanReview' } as unknown as EmailTriageEvent;
      const escalationDeadline = { type: 'xstate.after.escalationTimeout.email-triage.reviewEscalated' } as unknown as EmailTriageEvent;
      const escalated = run([...failedQuarantine, reviewDeadline]);
      expect(escalated.effects[3]).toMatchObject([{ gate: 'classification-review-escalated', reason: expect.stringContaining('the workflow fails') }]);
      const expired = run([...failedQuarantine, reviewDeadline, escalationDeadline]);
      expect(expired.snapshot.value).toBe('failed');
      expect(expired.snapshot.context.failure).toContain('mailbox unavailable');
    });

    it('ends in failed, not in a loop, when nobody reviews an email whose classifier and then quarantine agent failed', () => {
      const reviewDeadline = { type: 'xstate.after.approvalTimeout.email-triage.humanReview' } as unknown as EmailTriageEvent;
      const escalationDeadline = { type: 'xstate.after.escalationTimeout.email-triage.reviewEscalated' } as unknown as EmailTriageEvent;
      const setAsideFailed = [agentFailed('classifier down'), reviewDeadline, escalationDeadline, agentFailed('mailbox down')];
      const { snapshot, effects } = run(setAsideFailed);
      expect(snapshot.value).toBe('humanReview');
      expect(effects[4]).toMatchObject([{ proposed: { label: null }, reason: expect.stringContaining('It has no label: edit with "spam" or "ham".') }]);
      expect(snapshot.can(decision('classification-review', {}, 2))).toBe(false);
      const expired = run([...setAsideFailed, reviewDeadline, escalationDeadline]);
      expect(expired.snapshot.value).toBe('failed');
      expect(expired.snapshot.context.agentFailures.map((f: { agent: string }) => f.agent)).toEqual(['classifier', 'quarantine']);
    });

    it('gives a gate opened again by an agent failure a new id: a decision meant for the first visit does not decide the second', () => {
      const reviewedThenRouterFailed = [classified('ham', 0.6), decision('classification-review'), agentFailed('router down', 'r')];
      const { snapshot, effects } = run(reviewedThenRouterFailed);
      expect(snapshot.value).toBe('humanReview');
      expect(effects[1]).toMatchObject([{ kind: 'approval.request', gateId: 'wf-1:classification-review' }]);
      expect(effects[3]).toMatchObject([{ kind: 'approval.request', gateId: 'wf-1:classification-review:1' }]);
      expect(snapshot.can(decision('classification-review'))).toBe(false);
      expect(run([...reviewedThenRouterFailed, decision('classification-review')]).snapshot.value).toBe('humanReview');
      expect(run([...reviewedThenRouterFailed, decision('classification-review', {}, 1)]).snapshot.value).toBe('drafting');
    });

    it('records every failure handed over, in order, and tags the latest', () => {
      const { snapshot } = run([classified('ham', 0.95), agentFailed('router down', 'r'), decision('classification-review', {}, 1), agentFailed('drafter down', 'd')]);
      expect(snapshot.value).toBe('awaitingApproval');
      expect(snapshot.context.agentFailures.map((f: { agent: string }) => f.agent)).toEqual(['supervisor', 'drafter']);
      expect(emailTriageTags(snapshot.context)).toMatchObject({ agentFailed: 'drafter', label: 'ham' });
    });

    it('still fails when a reply send fails for good (delivery, not a decision a gate could make)', () => {
      const { snapshot } = run([
        classified('ham', 0.95),
        routed('draft_reply'),
        drafted,
        decision('reply-approval'),
        { type: 'effect.failed', payload: { effectId: 'wf-1:5:0', kind: 'reply.send', reason: 'ledger unavailable after 5 deliveries' } },
      ]);
      expect(snapshot.value).toBe('failed');
      expect(snapshot.status).toBe('done');
      expect(snapshot.context.failure).toBe('reply.send wf-1:5:0 failed: ledger unavailable after 5 deliveries');
    });

    it('fails on an effect that is not an agent task even in an agent state', () => {
      const { snapshot } = run([{ type: 'effect.failed', payload: { effectId: 'x', kind: 'tool.call', reason: 'unexpected' } }]);
      expect(snapshot.value).toBe('failed');
      expect(snapshot.context.agentFailures).toEqual([]);
    });
  });

  describe('approval deadlines', () => {
    const approvalDeadline = { type: 'xstate.after.approvalTimeout.email-triage.awaitingApproval' } as unknown as EmailTriageEvent;
    const escalationDeadline = { type: 'xstate.after.escalationTimeout.email-triage.escalated' } as unknown as EmailTriageEvent;

    it('asks the host for a delayed event of approvalTimeoutMs when a reply waits for a decision', () => {
      run([classified('ham', 0.95), routed('draft_reply'), drafted]);
      expect(lastActions).toContainEqual(expect.objectContaining({ type: 'xstate.raise', params: expect.objectContaining({ delay: 2_000, event: approvalDeadline }) }));
    });

    it('escalates to admins when the approval deadline passes, and only an admin may then decide', () => {
      const { snapshot, effects } = run([classified('ham', 0.95), routed('draft_reply'), drafted, approvalDeadline]);
      expect(snapshot.value).toBe('escalated');
      expect(effects[4]).toMatchObject([{ kind: 'approval.request', gate: 'reply-approval-escalated', allowedRoles: ['admin'] }]);
      const byApprover = run([classified('ham', 0.95), routed('draft_reply'), drafted, approvalDeadline, decision('reply-approval-escalated')]);
      expect(byApprover.snapshot.value).toBe('escalated');
      const byAdmin = run([
        classified('ham', 0.95),
        routed('draft_reply'),
        drafted,
        approvalDeadline,
        decision('reply-approval-escalated', { approver: { id: 'root', roles: ['admin'] } }),
      ]);
      expect(byAdmin.snapshot.value).toBe('sending');
    });

    it('rejects the reply automatically when the escalation deadline passes too', () => {
      const { snapshot } = run([classified('ham', 0.95), routed('draft_reply'), drafted, approvalDeadline, escalationDeadline]);
      expect(snapshot.value).toBe('rejected');
      expect(snapshot.context.replyDecision).toMatchObject({ decision: 'rejected', approverId: 'system:deadline' });
    });

    it('escalates a classification review to admins at its deadline, then quarantines the email unreviewed', () => {
      const reviewDeadline = { type: 'xstate.after.approvalTimeout.email-triage.humanReview' } as unknown as EmailTriageEvent;
      const reviewEscalationDeadline = { type: 'xstate.after.escalationTimeout.email-triage.reviewEscalated' } as unknown as EmailTriageEvent;
      const escalated = run([classified('ham', 0.6), reviewDeadline]);
      expect(escalated.snapshot.value).toBe('reviewEscalated');
      expect(escalated.effects[2]).toMatchObject([{ kind: 'approval.request', gate: 'classification-review-escalated', allowedRoles: ['admin'] }]);
      expect(run([classified('ham', 0.6), reviewDeadline, decision('classification-review-escalated')]).snapshot.value).toBe('reviewEscalated');
      const byAdmin = run([classified('ham', 0.6), reviewDeadline, decision('classification-review-escalated', { approver: { id: 'root', roles: ['admin'] } })]);
      expect(byAdmin.snapshot.value).toBe('routing');
      expect(byAdmin.snapshot.context.label).toBe('ham');
      const expired = run([classified('ham', 0.6), reviewDeadline, reviewEscalationDeadline]);
      expect(expired.snapshot.value).toBe('quarantining');
      expect(expired.snapshot.context.label).toBeNull();
      expect(expired.snapshot.context.reviewDecision).toMatchObject({ decision: 'rejected', approverId: 'system:deadline' });
      expect(expired.effects[3]).toMatchObject([{ kind: 'agent.task', input: { reviewedBy: 'system:deadline' } }]);
      const quarantined = { folder: 'quarantine' as const, reason: 'unreviewed', senderMessageCount: null, quarantinedBy: 'test' };
      const setAside = run([classified('ham', 0.6), reviewDeadline, reviewEscalationDeadline, { type: 'email.quarantined', payload: quarantined }]);
      expect(setAside.snapshot.value).toBe('quarantined');
    });

    it('cancels the deadline when the reply is decided in time', () => {
      run([classified('ham', 0.95), routed('draft_reply'), drafted, decision('reply-approval')]);
      expect(lastActions).toContainEqual(expect.objectContaining({ type: 'xstate.cancel', params: { sendId: approvalDeadline.type } }));
    });
  });

  it('is cancelled by a cancel request while it waits, and drops the pending decision and its deadline', () => {
    const { snapshot } = run([
      classified('ham', 0.95),
      routed('draft_reply'),
      drafted,
      { type: 'workflow.cancel_requested', payload: { reason: 'customer withdrew', requestedBy: { id: 'ops', roles: ['operator'] } } },
    ]);
    expect(snapshot.value).toBe('cancelled');
    expect(snapshot.status).toBe('done');
    expect(snapshot.hasTag('approval')).toBe(false);
    expect(snapshot.context.cancellation).toEqual({ reason: 'customer withdrew', requestedBy: 'ops' });
    expect(lastActions).toContainEqual(expect.objectContaining({ type: 'xstate.cancel' }));
  });
});

