import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JournalEntry, PendingApproval, SensorAlert } from '@troupe/contracts';
import { detectAlerts, loadSuthaharanReadings } from '@troupe/sensor-data';
import { pollJson, startTroupeStack, type TroupeStack } from '@troupe/testing';

interface IncidentView {
  workflowId: string;
  status: string;
  stateValue: unknown;
  tags: Record<string, string>;
  pendingApproval: PendingApproval | null;
  context: {
    page: { onCall: string } | null;
    safeAction: { action: string } | null;
    fix: { succeeded: boolean } | null;
    escalation: { ticketId: string } | null;
    outcome: string | null;
    report: { title: string; body: string } | null;
  } | null;
  journal: JournalEntry[];
}

describe('incident response through the apps on real NATS', () => {
  let stack: TroupeStack;
  let alerts: SensorAlert[];
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    process.env.TROUPE_APPROVAL_TIMEOUT_MS = '600000';
    process.env.TROUPE_ESCALATION_TIMEOUT_MS = '600000';
    alerts = detectAlerts(loadSuthaharanReadings()).alerts;
    stack = await startTroupeStack();
  });

  afterAll(async () => {
    await stack?.stop();
    process.env = savedEnv;
  });

  const start = (workflowId: string, alert: SensorAlert) =>
    fetch(`${stack.gatewayUrl}/workflows`, { method: 'POST', headers: stack.headers('operator'), body: JSON.stringify({ workflowType: 'incident-response', workflowId, payload: { alert } }) });
  const view = (workflowId: string, predicate: (body: IncidentView) => boolean) =>
    pollJson<IncidentView>(`${stack.gatewayUrl}/workflows/${workflowId}`, predicate, 90_000, stack.headers('viewer'));
  const decide = (workflowId: string, body: Record<string, unknown>) =>
    fetch(`${stack.gatewayUrl}/workflows/${workflowId}/approvals`, { method: 'POST', headers: stack.headers('approver'), body: JSON.stringify(body) });

  it('pages and takes the safe action in parallel for a critical alert, waits for a human, runs the approved fix and reports', async () => {
    const alert = alerts.find((a) => a.severity === 'critical')!;
    expect((await start('incident-e2e-approve', alert)).status).toBe(202);

    const waiting = await view('incident-e2e-approve', (b) => b.pendingApproval?.gate === 'fix-approval');
    expect(waiting.stateValue).toBe('awaitingFixApproval');
    expect(waiting.context?.page?.onCall).toBe('sensor-network-oncall');
    expect(waiting.context?.safeAction?.action).toBe('quarantine-readings');
    expect(waiting.pendingApproval).toMatchObject({ allowedRoles: ['approver', 'admin'], proposed: { action: 'inspect-enclosure' } });
    // Both branches ran from the one diagnosis step: the page and the safe action are answered in the parallel state.
    const parallelSteps = waiting.journal.filter((e) => e.eventType === 'oncall.paged' || e.eventType === 'safe_action.applied');
    expect(parallelSteps).toHaveLength(2);
    expect(parallelSteps.map((e) => e.fromStateValue)).toEqual(expect.arrayContaining([expect.objectContaining({ responding: expect.anything() })]));

    // A viewer may not decide; the approver's decision over HTTP moves it on.
    const byViewer = await fetch(`${stack.gatewayUrl}/workflows/incident-e2e-approve/approvals`, { method: 'POST', headers: stack.headers('viewer'), body: JSON.stringify({ decision: 'approved' }) });
    expect(byViewer.status).toBe(403);
    expect((await decide('incident-e2e-approve', { decision: 'approved', comment: 'go' })).status).toBe(202);

    const closed = await view('incident-e2e-approve', (b) => b.status !== 'active');
    expect(closed.stateValue).toBe('closed');
    expect(closed.context?.fix?.succeeded).toBe(true);
    expect(closed.context?.outcome).toBe('fixed');
    expect(closed.tags).toMatchObject({ outcome: 'fixed', fixDecision: 'approved', severity: 'critical' });
    expect(closed.context?.report?.title).toContain('fixed');
    expect(closed.context?.report?.body).toContain('approved by e2e-approver (go)');
    expect(closed.journal.find((e) => e.eventType === 'approval.decided')?.rejection).toBeNull();

    // The gateway draws the chart from the catalog, the parallel state included.
    const chart = (await (await fetch(`${stack.gatewayUrl}/statecharts/incident-response`, { headers: stack.headers('viewer') })).json()) as { machine: { states: Record<string, { type: string }> } };
    expect(chart.machine.states.responding.type).toBe('parallel');
  });

  it('escalates to engineering when the approver rejects the fix', async () => {
    const alert = alerts.at(-1)!;
    expect((await start('incident-e2e-reject', alert)).status).toBe(202);
    await view('incident-e2e-reject', (b) => b.pendingApproval?.gate === 'fix-approval');
    expect((await decide('incident-e2e-reject', { decision: 'rejected', comment: 'needs a site visit' })).status).toBe(202);
    const closed = await view('incident-e2e-reject', (b) => b.status !== 'active');
    expect(closed.stateValue).toBe('closed');
    expect(closed.context?.outcome).toBe('escalated');
    expect(closed.context?.escalation?.ticketId).toBe('ticket-incident-e2e-reject');
    expect(closed.context?.report?.body).toContain('rejected by e2e-approver: needs a site visit');
  });
});
