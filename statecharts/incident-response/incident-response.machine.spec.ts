import { describe, expect, it } from 'vitest';
import { SimulatedClock, createActor, initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import type { ApprovalDecided, Effect, IncidentDiagnosed, SensorAlert } from '@troupe/contracts';
import { incidentGateId, incidentResponseMachine, incidentResponseTags, type IncidentGate, type IncidentResponseEvent } from '@troupe/statecharts';

const workflowId = 'incident-1';
const alert = (severity: SensorAlert['severity']): SensorAlert => ({
  alertId: 'mote1-2344',
  moteId: 1,
  indoor: true,
  firstReading: 2344,
  lastReading: 2460,
  flaggedReadings: 117,
  channels: ['humidity', 'temperature'],
  peakRobustZ: 42.5,
  peak: { reading: 2350, humidity: 70.1, temperature: 29.3 },
  severity,
  detector: 'test',
  origin: { dataset: 'test' },
});
const input = (severity: SensorAlert['severity'] = 'critical') => ({ workflowId, alert: alert(severity), approvalTimeoutMs: 2_000, escalationTimeoutMs: 5_000 });

type Actions = Array<{ type: string; params?: unknown }>;

function effectsOf(actions: Actions): Effect[] {
  return actions.filter((a) => a.type === 'requestEffect').map((a) => a.params as Effect);
}

function run(events: IncidentResponseEvent[], severity: SensorAlert['severity'] = 'critical'): { snapshot: AnyMachineSnapshot; effects: Effect[][] } {
  let [snapshot, actions] = initialTransition(incidentResponseMachine, input(severity)) as unknown as [AnyMachineSnapshot, Actions];
  const effects = [effectsOf(actions)];
  for (const event of events) {
    [snapshot, actions] = transition(incidentResponseMachine, snapshot as never, event) as unknown as [AnyMachineSnapshot, Actions];
    effects.push(effectsOf(actions));
  }
  return { snapshot, effects };
}

const agentsOf = (effects: Effect[]) => effects.map((e) => (e.kind === 'agent.task' ? e.agent : e.kind));

const enriched: IncidentResponseEvent = {
  type: 'incident.enriched',
  payload: { moteId: 1, historyReadings: 120, baseline: { humidity: { median: 45.9, mad: 0.1 }, temperature: { median: 27.9, mad: 0.05 } }, priorEpisodes: 0, enricher: 'test' },
};
const diagnosed = (overrides: Partial<IncidentDiagnosed> = {}): IncidentResponseEvent => ({
  type: 'incident.diagnosed',
  payload: {
    severity: 'critical',
    cause: 'a heat and humidity source near the mote',
    transient: false,
    proposedFix: { action: 'inspect-enclosure', description: 'Inspect the enclosure of mote 1 and remove the source.' },
    confidence: 0.8,
    diagnoser: 'test',
    inputTokens: null,
    outputTokens: null,
    ...overrides,
  },
});
const paged: IncidentResponseEvent = { type: 'oncall.paged', payload: { pageId: 'p1', onCall: 'sensor-oncall', pagedAt: '2026-12-01T10:00:00.000Z', pager: 'test' } };
const safeApplied: IncidentResponseEvent = {
  type: 'safe_action.applied',
  payload: { action: 'quarantine-readings', detail: 'readings of mote 1 marked suspect', appliedAt: '2026-12-01T10:00:00.000Z', actor: 'test' },
};
const decision = (gate: IncidentGate, overrides: Partial<ApprovalDecided> = {}): IncidentResponseEvent => ({
  type: 'approval.decided',
  payload: { gateId: incidentGateId(workflowId, gate), decision: 'approved', approver: { id: 'alice', roles: ['approver'] }, comment: null, editedText: null, ...overrides },
});
const fixExecuted = (succeeded: boolean): IncidentResponseEvent => ({
  type: 'fix.executed',
  payload: { workOrderId: 'wo-1', action: 'inspect-enclosure', instructions: 'x', succeeded, detail: succeeded ? 'readings back to baseline' : 'no change', remediator: 'test' },
});
const escalated: IncidentResponseEvent = { type: 'incident.escalated', payload: { ticketId: 't-1', reason: 'r', escalator: 'test' } };
const reported: IncidentResponseEvent = { type: 'incident.reported', payload: { title: 'Incident', body: 'report', reporter: 'test' } };
const approvalDeadline = { type: 'xstate.after.approvalTimeout.incident-response.awaitingFixApproval' } as unknown as IncidentResponseEvent;
const escalationDeadline = { type: 'xstate.after.escalationTimeout.incident-response.fixEscalated' } as unknown as IncidentResponseEvent;

/** The events that bring a critical alert to the fix gate (page first, safe action second). */
const toGate: IncidentResponseEvent[] = [enriched, diagnosed(), paged, safeApplied];

describe('incident-response machine', () => {
  it('starts enriching, then diagnoses with the device history', () => {
    const { snapshot, effects } = run([enriched]);
    expect(snapshot.value).toBe('diagnosing');
    expect(agentsOf(effects[0])).toEqual(['incident-enricher']);
    expect(effects[1]).toEqual([
      expect.objectContaining({ kind: 'agent.task', agent: 'incident-diagnoser', task: 'incident.diagnose', input: expect.objectContaining({ enrichment: enriched.payload }) }),
    ]);
  });

  it('pages on-call and takes the safe action in parallel for a critical alert, and joins both before the fix gate', () => {
    const { snapshot, effects } = run([enriched, diagnosed(), safeApplied]);
    expect(agentsOf(effects[2]).sort()).toEqual(['incident-pager', 'incident-safe-action']);
    // One region done, the other still waiting: no gate yet.
    expect(snapshot.value).toEqual({ responding: { paging: 'requesting', safeAction: 'applied' } });
    expect(effects[3]).toEqual([]);
    const joined = transition(incidentResponseMachine, snapshot as never, paged) as unknown as [AnyMachineSnapshot, Actions];
    expect(joined[0].value).toBe('awaitingFixApproval');
    expect(effectsOf(joined[1])).toEqual([
      expect.objectContaining({ kind: 'approval.request', gate: 'fix-approval', gateId: incidentGateId(workflowId, 'fix-approval'), allowedRoles: ['approver', 'admin'] }),
    ]);
    expect(joined[0].hasTag('approval')).toBe(true);
  });

  it('joins in either order', () => {
    const { snapshot } = run([enriched, diagnosed(), paged, safeApplied]);
    expect(snapshot.value).toBe('awaitingFixApproval');
    expect(snapshot.context.page).toMatchObject({ pageId: 'p1' });
    expect(snapshot.context.safeAction).toMatchObject({ action: 'quarantine-readings' });
  });

  it('treats a warning alert diagnosed critical as critical', () => {
    const { snapshot } = run([enriched, diagnosed({ severity: 'critical' })], 'warning');
    expect(snapshot.value).toEqual({ responding: { paging: 'requesting', safeAction: 'requesting' } });
  });

  it('treats a critical alert diagnosed as a warning as critical', () => {
    const { snapshot } = run([enriched, diagnosed({ severity: 'warning', transient: true })], 'critical');
    expect(snapshot.value).toEqual({ responding: { paging: 'requesting', safeAction: 'requesting' } });
  });

  it('asks for the fix without paging for a warning', () => {
    const { snapshot, effects } = run([enriched, diagnosed({ severity: 'warning' })], 'warning');
    expect(snapshot.value).toBe('awaitingFixApproval');
    expect(agentsOf(effects[2])).toEqual(['approval.request']);
    expect(snapshot.context.page).toBeNull();
  });

  it('closes a transient warning as monitored, with a report and no gate', () => {
    const { snapshot, effects } = run([enriched, diagnosed({ severity: 'warning', transient: true }), reported], 'warning');
    expect(agentsOf(effects[2])).toEqual(['incident-reporter']);
    expect(snapshot.value).toBe('closed');
    expect(snapshot.status).toBe('done');
    expect(snapshot.context.outcome).toBe('monitored');
  });

  it('runs the proposed fix when approved, and closes as fixed after the report', () => {
    const { snapshot, effects } = run([...toGate, decision('fix-approval'), fixExecuted(true), reported]);
    expect(effects[5]).toEqual([
      expect.objectContaining({ agent: 'incident-remediator', input: expect.objectContaining({ fixInstructions: 'Inspect the enclosure of mote 1 and remove the source.' }) }),
    ]);
    expect(agentsOf(effects[6])).toEqual(['incident-reporter']);
    expect(snapshot.value).toBe('closed');
    expect(snapshot.context.outcome).toBe('fixed');
    expect(snapshot.context.decision).toMatchObject({ decision: 'approved', approverId: 'alice' });
    expect(incidentResponseTags(snapshot.context)).toMatchObject({ outcome: 'fixed', fixDecision: 'approved', severity: 'critical', moteId: '1' });
  });

  it("runs the approver's edited instructions instead of the proposal", () => {
    const { snapshot, effects } = run([...toGate, decision('fix-approval', { decision: 'edited', editedText: '  Replace the sensor.  ' })]);
    expect(snapshot.value).toBe('executingFix');
    expect(snapshot.context.fixInstructions).toBe('Replace the sensor.');
    expect(effects[5]).toEqual([expect.objectContaining({ input: expect.objectContaining({ fixInstructions: 'Replace the sensor.' }) })]);
  });

  it('refuses an edit without text', () => {
    const { snapshot } = run([...toGate, decision('fix-approval', { decision: 'edited', editedText: '  ' })]);
    expect(snapshot.value).toBe('awaitingFixApproval');
  });

  it('escalates to engineering when the fix is rejected, and closes as escalated', () => {
    const { snapshot, effects } = run([...toGate, decision('fix-approval', { decision: 'rejected', comment: 'not safe' }), escalated, reported]);
    expect(effects[5]).toEqual([expect.objectContaining({ agent: 'incident-escalator' })]);
    expect(snapshot.value).toBe('closed');
    expect(snapshot.context.escalationReason).toBe('The proposed fix was rejected by alice: not safe');
    expect(snapshot.context.outcome).toBe('escalated');
  });

  it('escalates when the fix fails', () => {
    const { snapshot } = run([...toGate, decision('fix-approval'), fixExecuted(false)]);
    expect(snapshot.value).toBe('escalating');
    expect(snapshot.context.escalationReason).toBe('The fix did not work: no change');
  });

  it('ignores a decision naming another gate or by a viewer', () => {
    const other = run([...toGate, decision('fix-approval-escalated', { approver: { id: 'root', roles: ['admin'] } })]);
    expect(other.snapshot.value).toBe('awaitingFixApproval');
    const viewer = run([...toGate, decision('fix-approval', { approver: { id: 'v', roles: ['viewer'] } })]);
    expect(viewer.snapshot.value).toBe('awaitingFixApproval');
  });

  describe('approval deadlines', () => {
    it('escalates the gate to admins at its deadline; only an admin may then decide', () => {
      const { snapshot, effects } = run([...toGate, approvalDeadline]);
      expect(snapshot.value).toBe('fixEscalated');
      expect(effects[5]).toEqual([expect.objectContaining({ kind: 'approval.request', gate: 'fix-approval-escalated', allowedRoles: ['admin'] })]);
      const byApprover = run([...toGate, approvalDeadline, decision('fix-approval-escalated')]);
      expect(byApprover.snapshot.value).toBe('fixEscalated');
      const byAdmin = run([...toGate, approvalDeadline, decision('fix-approval-escalated', { approver: { id: 'root', roles: ['admin'] } })]);
      expect(byAdmin.snapshot.value).toBe('executingFix');
      const edited = run([...toGate, approvalDeadline, decision('fix-approval-escalated', { decision: 'edited', editedText: 'Swap the mote.', approver: { id: 'root', roles: ['admin'] } })]);
      expect(edited.snapshot.context.fixInstructions).toBe('Swap the mote.');
      const rejected = run([...toGate, approvalDeadline, decision('fix-approval-escalated', { decision: 'rejected', approver: { id: 'root', roles: ['admin'] } })]);
      expect(rejected.snapshot.value).toBe('escalating');
    });

    it('escalates to engineering unfixed when the escalation deadline passes too', () => {
      const { snapshot } = run([...toGate, approvalDeadline, escalationDeadline, escalated, reported]);
      expect(snapshot.value).toBe('closed');
      expect(snapshot.context.decision).toMatchObject({ decision: 'rejected', approverId: 'system:deadline' });
      expect(snapshot.context.outcome).toBe('escalated');
    });

    it('moves on the simulated clock: 2 s to the admin gate, 5 s more to engineering', () => {
      const clock = new SimulatedClock();
      const actor = createActor(incidentResponseMachine, { input: input(), clock }).start();
      for (const event of toGate) actor.send(event);
      expect(actor.getSnapshot().value).toBe('awaitingFixApproval');
      clock.increment(1_999);
      expect(actor.getSnapshot().value).toBe('awaitingFixApproval');
      clock.increment(1);
      expect(actor.getSnapshot().value).toBe('fixEscalated');
      clock.increment(5_000);
      expect(actor.getSnapshot().value).toBe('escalating');
      actor.stop();
    });
  });

  it('fails when an effect fails for good, and is cancelled by a cancel request', () => {
    const failed = run([enriched, { type: 'effect.failed', payload: { effectId: 'e1', kind: 'agent.task', reason: 'diagnoser down' } }]);
    expect(failed.snapshot.value).toBe('failed');
    expect(failed.snapshot.context.failure).toBe('agent.task e1 failed: diagnoser down');
    const cancelled = run([enriched, diagnosed(), { type: 'workflow.cancel_requested', payload: { reason: 'drill', requestedBy: { id: 'ops', roles: ['operator'] } } }]);
    expect(cancelled.snapshot.value).toBe('cancelled');
    expect(cancelled.snapshot.context.cancellation).toEqual({ reason: 'drill', requestedBy: 'ops' });
  });
});
