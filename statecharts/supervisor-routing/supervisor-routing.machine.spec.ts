import { describe, expect, it } from 'vitest';
import { SimulatedClock, createActor, initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import type { ApprovalDecided, Effect, RouteCandidate } from '@troupe/contracts';
import { routeReviewGateId, supervisorRoutingMachine, type SupervisorRoutingEvent, type SupervisorRoutingInput } from '@troupe/statecharts';

const supervisionId = 'sup-wf-1_2_0';
const candidates: RouteCandidate[] = [
  { route: 'summarise', specialist: 'summariser', task: 'email.summarise', description: 'Summaries', resultEventType: 'email.summarised' },
  { route: 'draft_reply', specialist: 'drafter', task: 'reply.draft', description: 'Replies', resultEventType: 'reply.drafted' },
  { route: 'classify', specialist: 'classifier', task: 'email.classify', description: 'Spam or ham', resultEventType: 'email.classified' },
];
const base: SupervisorRoutingInput = {
  supervisionId,
  parent: { workflowId: 'wf-1', effectId: 'wf-1:2:0', task: 'email.route' },
  input: { email: 'ann' },
  candidates,
  mode: 'route',
  fanOut: [],
  confidenceThreshold: 0.6,
  joinTimeoutMs: 5_000,
  router: { agent: 'supervisor', task: 'route.decide' },
  resultEventType: 'email.routed',
};
type Actions = Array<{ type: string; params?: unknown }>;

function effectsOf(actions: Actions): Effect[] {
  return actions.filter((a) => a.type === 'requestEffect').map((a) => a.params as Effect);
}

function run(input: Partial<SupervisorRoutingInput>, events: SupervisorRoutingEvent[] = []) {
  let [snapshot, actions] = initialTransition(supervisorRoutingMachine, { ...base, ...input }) as [AnyMachineSnapshot, Actions];
  const effects = [effectsOf(actions)];
  const accepted: boolean[] = [];
  for (const event of events) {
    accepted.push(snapshot.can(event as never));
    [snapshot, actions] = transition(supervisorRoutingMachine, snapshot as never, event as never) as unknown as [AnyMachineSnapshot, Actions];
    effects.push(effectsOf(actions));
  }
  return { snapshot, effects, accepted, actions };
}

const decided = (route: string, confidence: number): SupervisorRoutingEvent => ({ type: 'route.decided', payload: { route, confidence, reason: 'list headers', router: 'header-rules' } });
const decision = (value: ApprovalDecided['decision'], overrides: Partial<ApprovalDecided> = {}): SupervisorRoutingEvent => ({
  type: 'approval.decided',
  payload: { gateId: routeReviewGateId(supervisionId), decision: value, approver: { id: 'alice', roles: ['approver'] }, comment: null, editedText: null, ...overrides },
});

describe('supervisor-routing machine', () => {
  it('asks the router for a decision among the candidates', () => {
    const { snapshot, effects } = run({});
    expect(snapshot.value).toBe('deciding');
    expect(effects[0]).toEqual([{ kind: 'agent.task', agent: 'supervisor', task: 'route.decide', input: { input: { email: 'ann' }, candidates }, budgetWorkflowId: 'wf-1' }]);
  });

  it('answers the parent with a confident decision', () => {
    const { snapshot, effects } = run({}, [decided('summarise', 0.9)]);
    expect(snapshot.value).toBe('done');
    expect(effects[1]).toEqual([
      { kind: 'workflow.event', workflowId: 'wf-1', answersEffectId: 'wf-1:2:0', type: 'email.routed', payload: { route: 'summarise', confidence: 0.9, reason: 'list headers', router: 'header-rules' } },
    ]);
  });

  it('asks a human below the confidence threshold and takes the route they approve or pick', () => {
    const low = run({}, [decided('draft_reply', 0.55)]);
    expect(low.snapshot.value).toBe('reviewing');
    expect(low.snapshot.hasTag('approval')).toBe(true);
    expect(low.effects[1]).toEqual([expect.objectContaining({ kind: 'approval.request', gate: 'route-review', gateId: routeReviewGateId(supervisionId), proposed: expect.objectContaining({ route: 'draft_reply' }) })]);

    const approved = run({}, [decided('draft_reply', 0.55), decision('approved')]);
    expect(approved.effects[2]).toEqual([expect.objectContaining({ kind: 'workflow.event', payload: expect.objectContaining({ route: 'draft_reply', router: 'human/alice', confidence: 1 }) })]);

    const picked = run({}, [decided('draft_reply', 0.55), decision('edited', { editedText: 'summarise' })]);
    expect(picked.snapshot.value).toBe('done');
    expect(picked.snapshot.context.decision.route).toBe('summarise');
  });

  it('does not accept an edit naming no candidate, a viewer, or another gate; fails on rejection', () => {
    const r = run({}, [
      decided('draft_reply', 0.55),
      decision('edited', { editedText: 'nonsense' }),
      decision('approved', { approver: { id: 'v', roles: ['viewer'] } }),
      decision('approved', { gateId: 'other' }),
      decision('rejected', { comment: 'not for us' }),
    ]);
    expect(r.accepted).toEqual([true, false, false, false, true]);
    expect(r.snapshot.value).toBe('failed');
    expect(r.effects.at(-1)).toEqual([
      {
        kind: 'workflow.event',
        workflowId: 'wf-1',
        answersEffectId: 'wf-1:2:0',
        type: 'effect.failed',
        payload: { effectId: 'wf-1:2:0', kind: 'agent.task', reason: `supervision ${supervisionId}: a human rejected the routing: not for us` },
      },
    ]);
  });

  it('fails on a route that is not a candidate, and when the router fails', () => {
    expect(run({}, [decided('poetry', 0.99)]).snapshot.context.failure).toBe('the router chose poetry, which is not a registered route (summarise, draft_reply, classify)');
    const failed = run({}, [{ type: 'effect.failed', payload: { effectId: 'sup:1:0', kind: 'agent.task', reason: 'down' } }]);
    expect(failed.snapshot.context.failure).toBe('the router failed: down');
  });

  it('keeps counting against the budget workflow of a supervision started by a supervision', () => {
    const nested = run({ parent: { workflowId: 'sup-outer', effectId: 'sup-outer:1:0', task: 'task.fan_out', budgetWorkflowId: 'wf-root' }, mode: 'fan_out', fanOut: ['summarise'] });
    expect(nested.effects[0]).toEqual([{ kind: 'agent.task', agent: 'summariser', task: 'email.summarise', input: { email: 'ann' }, budgetWorkflowId: 'wf-root' }]);
    expect(run({ parent: { workflowId: 'sup-outer', effectId: 'sup-outer:1:0', task: 'email.route', budgetWorkflowId: 'wf-root' } }).effects[0]).toMatchObject([{ budgetWorkflowId: 'wf-root' }]);
  });

  it('fans out to several specialists at once and joins their answers', () => {
    const fanOut = { mode: 'fan_out' as const, fanOut: ['summarise', 'draft_reply', 'classify'], resultEventType: 'supervision.completed' };
    const r = run(fanOut, [
      { type: 'reply.drafted', payload: { body: 'hi' } },
      { type: 'reply.drafted', payload: { body: 'again' } },
      { type: 'effect.failed', payload: { effectId: `${supervisionId}:1:0`, kind: 'agent.task', reason: 'summariser down' } },
      { type: 'email.classified', payload: { label: 'ham' } },
    ]);
    expect(r.effects[0].map((e) => e.kind === 'agent.task' && e.agent)).toEqual(['summariser', 'drafter', 'classifier']);
    // Every specialist's model calls count against the supervised workflow's budget, not the supervision's.
    expect(r.effects[0].map((e) => e.kind === 'agent.task' && e.budgetWorkflowId)).toEqual(['wf-1', 'wf-1', 'wf-1']);
    expect(r.accepted).toEqual([true, false, true, true]);
    expect(r.snapshot.value).toBe('done');
    expect(r.effects.at(-1)).toEqual([
      {
        kind: 'workflow.event',
        workflowId: 'wf-1',
        answersEffectId: 'wf-1:2:0',
        type: 'supervision.completed',
        payload: {
          answered: [
            { route: 'draft_reply', specialist: 'drafter', type: 'reply.drafted', payload: { body: 'hi' } },
            { route: 'classify', specialist: 'classifier', type: 'email.classified', payload: { label: 'ham' } },
          ],
          failed: [{ route: 'summarise', specialist: 'summariser', reason: 'summariser down' }],
          missing: [],
          timedOut: false,
        },
      },
    ]);
  });

  it('schedules the join timeout as a delayed event and, when it fires, says which specialists answered', () => {
    const fanOut = { mode: 'fan_out' as const, fanOut: ['summarise', 'draft_reply', 'classify'], resultEventType: 'supervision.completed' };
    const started = run(fanOut);
    // The runtime turns this into a durable timer.
    expect(started.actions).toContainEqual(expect.objectContaining({ type: 'xstate.raise', params: expect.objectContaining({ delay: 5_000 }) }));

    const clock = new SimulatedClock();
    const actor = createActor(supervisorRoutingMachine, { input: { ...base, ...fanOut }, clock });
    actor.start();
    actor.send({ type: 'email.summarised', payload: { summary: 's' } });
    actor.send({ type: 'email.classified', payload: { label: 'ham' } });
    clock.increment(4_999);
    expect(actor.getSnapshot().value).toBe('dispatching');
    clock.increment(1);
    const snapshot = actor.getSnapshot();
    expect(snapshot.value).toBe('done');
    expect(snapshot.context.timedOut).toBe(true);
    expect(snapshot.context.dispatched.map((t) => [t.specialist, t.status])).toEqual([
      ['summariser', 'answered'],
      ['drafter', 'pending'],
      ['classifier', 'answered'],
    ]);
    actor.stop();
  });

  it('fails with the reason on cancellation', () => {
    const r = run({ mode: 'fan_out', fanOut: ['summarise'] }, [{ type: 'workflow.cancel_requested', payload: { reason: 'stop', requestedBy: { id: 'bob', roles: ['operator'] } } }]);
    expect(r.snapshot.value).toBe('failed');
    expect(r.snapshot.context.failure).toBe('cancelled: stop');
  });
});
