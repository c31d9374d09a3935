import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishEnvelope } from '@troupe/bus';
import {
  APPROVAL_DECIDED,
  EMAIL_RECEIVED,
  agentTaskSubject,
  encodeEnvelope,
  workflowEventSubject,
  STREAMS,
  type JournalEntry,
  type PendingApproval,
} from '@troupe/contracts';
import { corpusSplit, loadSpamAssassinCorpus, parseCorpusEmail, type CorpusEmail } from '@troupe/email-corpus';
import { replayJournal, canonicalJson } from '@troupe/actor-runtime';
import { applyJournalRetention, createPersistence } from '@troupe/persistence';
import { HISTORY_DEFINITIONS } from '../../apps/gateway/src/history/history.definitions';
import { pollJson, publishEmails, readDeadLetters, readJournalAtVersion, startTroupeStack, type TroupeStack } from '@troupe/testing';
import { HeaderRuleRouter } from '../../apps/supervisor/src/routing/header-rule-router';

interface WorkflowView {
  workflowId: string;
  status: string;
  stateValue: unknown;
  pendingApproval: PendingApproval | null;
  context: Record<string, unknown> | null;
  journal: JournalEntry[];
}

const FINAL_OR_WAITING = ['quarantined', 'summarised', 'sent', 'rejected', 'failed', 'awaitingApproval', 'humanReview'];

describe('inbox triage across the apps on a real nats-server', () => {
  let stack: TroupeStack;
  let workflowIds: string[];

  beforeAll(async () => {
    stack = await startTroupeStack();
    // Held-out emails: ham the offline router sends to the drafter (most corpus ham is list mail, which
    // it sends to the summariser), other ham, and spam.
    const test = corpusSplit(loadSpamAssassinCorpus(), 'test');
    const router = new HeaderRuleRouter();
    const drafted: CorpusEmail[] = [];
    for (const email of test.filter((e) => e.label === 'ham')) {
      if ((await router.route(await parseCorpusEmail(email))).route === 'draft_reply') drafted.push(email);
      if (drafted.length === 6) break;
    }
    const emails = [...drafted, ...test.filter((e) => e.group === 'easy-ham-1').slice(0, 16), ...test.filter((e) => e.label === 'spam').slice(0, 8)];
    workflowIds = await publishEmails(stack, 'e2e', emails);
    const settled = await stack.tracker.waitFor(() => stack.tracker.progress().settled === workflowIds.length, 120_000);
    expect(settled, `not every workflow settled; logs in ${stack.logDir}`).toBe(true);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('brings every published email to a final state or a pending human decision', async () => {
    const { items } = (await (await fetch(`${stack.gatewayUrl}/workflows?idPrefix=triage-e2e-&limit=1000`, { headers: stack.headers('viewer') })).json()) as {
      items: Array<{ workflowId: string; statePaths: string[] }>;
    };
    expect(items.map((i) => i.workflowId).sort()).toEqual([...workflowIds].sort());
    for (const item of items) expect(FINAL_OR_WAITING).toContain(item.statePaths.at(-1));
    expect(items.some((i) => i.statePaths.includes('quarantined'))).toBe(true);
    expect(items.some((i) => i.statePaths.includes('awaitingApproval'))).toBe(true);
  });

  it('lists workflows filtered by state over HTTP', async () => {
    const response = await fetch(`${stack.gatewayUrl}/workflows?state=awaitingApproval&idPrefix=triage-e2e-`, { headers: stack.headers('viewer') });
    const { items } = (await response.json()) as { items: Array<{ statePaths: string[]; pendingApproval: PendingApproval | null }> };
    expect(items.length).toBeGreaterThan(0);
    for (const item of items) {
      expect(item.statePaths).toContain('awaitingApproval');
      expect(item.pendingApproval?.gate).toBe('reply-approval');
    }
  });

  it('sends a drafted reply once a human approves it over HTTP, and the journal shows each transition', async () => {
    const { items } = (await (await fetch(`${stack.gatewayUrl}/workflows?state=awaitingApproval&idPrefix=triage-e2e-`, { headers: stack.headers('viewer') })).json()) as {
      items: Array<{ workflowId: string }>;
    };
    const workflowId = items[0].workflowId;
    const response = await fetch(`${stack.gatewayUrl}/workflows/${workflowId}/approvals`, {
      method: 'POST',
      headers: stack.headers('approver'),
      body: JSON.stringify({ decision: 'approved', comment: 'looks right' }),
    });
    expect(response.status).toBe(202);
    const view = await pollJson<WorkflowView>(`${stack.gatewayUrl}/workflows/${workflowId}`, (body) => body.stateValue === 'sent', 30_000, stack.headers('viewer'));
    expect(view.stateValue).toBe('sent');
    expect(view.status).toBe('done');
    expect(view.journal.map((e) => e.eventType)).toEqual([
      'email.received',
      'email.classified',
      'email.routed',
      'reply.drafted',
      'approval.decided',
      'reply.sent',
    ]);
    expect(view.journal.map((e) => e.stateValue)).toEqual(['classifying', 'routing', 'drafting', 'awaitingApproval', 'sending', 'sent']);
    expect(view.journal.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    const decided = view.journal[4].event as { payload: { approver: { id: string } } };
    expect(decided.payload.approver).toEqual({ id: 'e2e-approver', roles: ['approver'] });

    const persistence = await createPersistence({ nats: stack.connection });
    const sent = (await persistence.sentMail.list()).filter((r) => r.workflowId === workflowId);
    await persistence.close();
    expect(sent).toHaveLength(1);
    expect(sent[0].body).toBe((view.context as { finalReplyBody: string }).finalReplyBody);
  });

  it('journals a decision from a principal whose role is not allowed, and the workflow does not move', async () => {
    const { items } = (await (await fetch(`${stack.gatewayUrl}/workflows?state=awaitingApproval&idPrefix=triage-e2e-`, { headers: stack.headers('viewer') })).json()) as {
      items: Array<{ workflowId: string; pendingApproval: PendingApproval }>;
    };
    const { workflowId, pendingApproval } = items[0];
    await publishEnvelope(stack.connection.jetstream(), workflowEventSubject(workflowId), {
      id: `${workflowId}:viewer-decision`,
      type: APPROVAL_DECIDED,
      workflowId,
      correlationId: workflowId,
      causationId: null,
      occurredAt: new Date().toISOString(),
      source: 'e2e-test',
      payload: { gateId: pendingApproval.gateId, decision: 'approved', approver: { id: 'mallory', roles: ['viewer'] }, comment: null, editedText: null },
    });
    const view = await pollJson<WorkflowView>(`${stack.gatewayUrl}/workflows/${workflowId}`, (body) =>
      body.journal.some((e) => e.eventId === `${workflowId}:viewer-decision`),
    30_000, stack.headers('viewer'));
    const entry = view.journal.find((e) => e.eventId === `${workflowId}:viewer-decision`);
    expect(entry?.rejection).toBe('mallory (roles viewer) may not decide gate reply-approval: allowed roles are approver, admin');
    expect(view.stateValue).toBe('awaitingApproval');
  });

  it('cancels a waiting workflow over HTTP: it ends in cancelled with no pending decision', async () => {
    const { items } = (await (await fetch(`${stack.gatewayUrl}/workflows?state=awaitingApproval&idPrefix=triage-e2e-`, { headers: stack.headers('viewer') })).json()) as {
      items: Array<{ workflowId: string }>;
    };
    const workflowId = items[items.length - 1].workflowId;
    const response = await fetch(`${stack.gatewayUrl}/workflows/${workflowId}/cancel`, {
      method: 'POST',
      headers: stack.headers('operator'),
      body: JSON.stringify({ reason: 'sender withdrew the request' }),
    });
    expect(response.status).toBe(202);
    const view = await pollJson<WorkflowView>(`${stack.gatewayUrl}/workflows/${workflowId}`, (body) => body.stateValue === 'cancelled', 30_000, stack.headers('viewer'));
    expect(view.stateValue).toBe('cancelled');
    expect(view.pendingApproval).toBeNull();
    expect(view.journal.at(-1)).toMatchObject({ eventType: 'workflow.cancel_requested', rejection: null });
    const again = await fetch(`${stack.gatewayUrl}/workflows/${workflowId}/cancel`, {
      method: 'POST',
      headers: stack.headers('operator'),
      body: JSON.stringify({ reason: 'twice' }),
    });
    expect(again.status).toBe(409);
  });

  it('answers a malformed approval body with a problem+json 400 naming the field', async () => {
    const response = await fetch(`${stack.gatewayUrl}/workflows/${workflowIds[0]}/approvals`, {
      method: 'POST',
      headers: stack.headers('approver'),
      body: JSON.stringify({ decision: 'maybe' }),
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await response.json()) as { issues: string[] };
    expect(problem.issues.join(' ')).toContain('decision');
  });

  it('dead-letters malformed messages with the reason and keeps triaging', async () => {
    const since = new Date();
    const js = stack.connection.jetstream();
    await js.publish(workflowEventSubject('wf-garbage'), new TextEncoder().encode('this is not json'));
    await publishEnvelope(js, workflowEventSubject('wf-bad-email'), {
      id: 'wf-bad-email:received',
      type: EMAIL_RECEIVED,
      workflowId: 'wf-bad-email',
      correlationId: 'wf-bad-email',
      causationId: null,
      occurredAt: new Date().toISOString(),
      source: 'e2e-test',
      payload: { email: 42 },
    });
    await js.publish(agentTaskSubject('classifier'), encodeEnvelope({
      id: 'task-without-input',
      type: 'agent.task_requested',
      workflowId: 'wf-no-input',
      correlationId: 'wf-no-input',
      causationId: null,
      occurredAt: new Date().toISOString(),
      source: 'e2e-test',
      payload: { effectId: 'x', agent: 'classifier', task: 'email.classify', input: { nothing: true } },
    }));
    const letters = await readDeadLetters(stack.connection, since, 3);
    expect(letters.map((l) => l.subject).sort()).toEqual(['troupe.dlq.agent-classifier', 'troupe.dlq.orchestrator', 'troupe.dlq.orchestrator']);
    const reasons = letters.map((l) => l.letter.reason).join('\n');
    expect(reasons).toContain('not UTF-8 JSON');
    expect(reasons).toContain('email.received payload failed validation');
    expect(reasons).toContain('classifier task input failed validation');
    const garbage = letters.find((l) => l.letter.reason.includes('not UTF-8 JSON'));
    expect(Buffer.from(garbage!.letter.dataBase64, 'base64').toString()).toBe('this is not json');

    // The apps kept running: a new email still settles.
    const test = corpusSplit(loadSpamAssassinCorpus(), 'test');
    const [after] = await publishEmails(stack, 'e2e-after-dlq', [test[100]]);
    expect(await stack.tracker.waitFor(() => stack.tracker.workflows.get(after)?.settledAtMs != null, 60_000)).toBe(true);
  });

  it('replays every journal of the run to every step and reproduces the stored snapshots exactly', async () => {
    const { items } = (await (await fetch(`${stack.gatewayUrl}/workflows?limit=1000`, { headers: stack.headers('viewer') })).json()) as { items: Array<{ workflowId: string; version: number }> };
    expect(items.length).toBeGreaterThanOrEqual(workflowIds.length);
    const persistence = await createPersistence({ nats: stack.connection });
    let steps = 0;
    try {
      for (const { workflowId } of items) {
        const record = (await persistence.snapshots.load(workflowId))!;
        const journal = await readJournalAtVersion(persistence, workflowId);
        expect(journal.map((entry) => entry.seq)).toEqual(Array.from({ length: record.version }, (_, n) => n + 1));
        for (const entry of journal) {
          const replay = replayJournal(journal, HISTORY_DEFINITIONS, { step: entry.seq });
          expect(replay.mismatches, `${workflowId} step ${entry.seq}`).toEqual([]);
          expect(replay.snapshotDigest).toBe(entry.snapshotDigest);
          steps += 1;
        }
        expect(canonicalJson(replayJournal(journal, HISTORY_DEFINITIONS).snapshot), workflowId).toBe(canonicalJson(record.snapshot));
        const overHttp = (await (await fetch(`${stack.gatewayUrl}/workflows/${workflowId}/replay`, { headers: stack.headers('viewer') })).json()) as Record<string, unknown>;
        expect(overHttp).toMatchObject({ workflowId, step: record.version, stateValue: record.stateValue, matchesSnapshot: true, matchesStoredSnapshot: true });
      }
    } finally {
      await persistence.close();
    }
    expect(steps).toBeGreaterThan(items.length * 2);
    // The list holds the supervisor routings and agent runs too; step 1 of a triage workflow is classifying.
    const triage = workflowIds[0];
    const first = (await (await fetch(`${stack.gatewayUrl}/workflows/${triage}/replay?step=1`, { headers: stack.headers('viewer') })).json()) as Record<string, unknown>;
    expect(first).toMatchObject({ step: 1, stateValue: 'classifying', matchesSnapshot: true, matchesStoredSnapshot: null });
    expect((await fetch(`${stack.gatewayUrl}/workflows/${triage}/replay?step=999`, { headers: stack.headers('viewer') })).status).toBe(400);
  });

  it('forks a workflow from the step it waited for approval: the fork is approved and sent, the original is untouched', async () => {
    const { items } = (await (await fetch(`${stack.gatewayUrl}/workflows?state=awaitingApproval&idPrefix=triage-e2e-`, { headers: stack.headers('viewer') })).json()) as {
      items: Array<{ workflowId: string }>;
    };
    const source = items[0].workflowId;
    const before = await pollJson<WorkflowView>(`${stack.gatewayUrl}/workflows/${source}`, (body) => body.journal.length > 0, 30_000, stack.headers('viewer'));
    const step = before.journal.find((entry) => entry.stateValue === 'awaitingApproval')!.seq;
    const response = await fetch(`${stack.gatewayUrl}/workflows/${source}/fork`, {
      method: 'POST',
      headers: { ...stack.headers('admin'), 'content-type': 'application/json' },
      body: JSON.stringify({
        step,
        event: {
          type: APPROVAL_DECIDED,
          payload: { gateId: before.pendingApproval!.gateId, decision: 'approved', approver: { id: 'what-if', roles: ['approver'] }, comment: 'what if', editedText: null },
        },
      }),
    });
    expect(response.status).toBe(202);
    const forked = (await response.json()) as { workflowId: string; forkedFrom: { workflowId: string; step: number } };
    expect(forked.forkedFrom).toEqual({ workflowId: source, step });
    const fork = await pollJson<WorkflowView>(`${stack.gatewayUrl}/workflows/${forked.workflowId}`, (body) => body.stateValue === 'sent', 30_000, stack.headers('viewer'));
    expect(fork.journal.map((entry) => entry.eventType)).toEqual([...before.journal.slice(0, step).map((entry) => entry.eventType), 'approval.decided', 'reply.sent']);
    expect(fork.journal.slice(0, step).map((entry) => entry.snapshotDigest)).toEqual(before.journal.slice(0, step).map((entry) => entry.snapshotDigest));
    const replay = (await (await fetch(`${stack.gatewayUrl}/workflows/${forked.workflowId}/replay`, { headers: stack.headers('viewer') })).json()) as Record<string, unknown>;
    expect(replay).toMatchObject({ stateValue: 'sent', matchesSnapshot: true, matchesStoredSnapshot: true });

    const after = (await (await fetch(`${stack.gatewayUrl}/workflows/${source}`, { headers: stack.headers('viewer') })).json()) as WorkflowView;
    expect(after).toEqual(before);
    const notAccepted = await fetch(`${stack.gatewayUrl}/workflows/${source}/fork`, {
      method: 'POST',
      headers: { ...stack.headers('admin'), 'content-type': 'application/json' },
      body: JSON.stringify({ step: 1, event: { type: 'reply.sent', payload: {} } }),
    });
    expect(notAccepted.status).toBe(409);
  });

  it('counts workflows per state and status, and sorts and filters the list by update time over HTTP', async () => {
    const counts = (await (await fetch(`${stack.gatewayUrl}/workflows/counts?type=email-triage&idPrefix=triage-e2e-`, { headers: stack.headers('viewer') })).json()) as {
      total: number;
      byStatus: Record<string, number>;
      byState: Record<string, number>;
    };
    const { items } = (await (await fetch(`${stack.gatewayUrl}/workflows?type=email-triage&idPrefix=triage-e2e-&sort=-updatedAt&limit=1000`, { headers: stack.headers('viewer') })).json()) as {
      items: Array<{ workflowId: string; statePaths: string[]; status: string; updatedAt: string }>;
    };
    expect(counts.total).toBe(items.length);
    expect(counts.byState.awaitingApproval).toBe(items.filter((item) => item.statePaths.includes('awaitingApproval')).length);
    const waiting = (await (await fetch(`${stack.gatewayUrl}/workflows?state=awaitingApproval&type=email-triage&idPrefix=triage-e2e-&limit=1000`, { headers: stack.headers('viewer') })).json()) as {
      items: unknown[];
    };
    expect(waiting.items).toHaveLength(counts.byState.awaitingApproval);
    expect(Object.values(counts.byStatus).reduce((a, b) => a + b, 0)).toBe(items.length);
    const times = items.map((item) => item.updatedAt);
    expect(times).toEqual([...times].sort().reverse());
    const middle = times[Math.floor(times.length / 2)];
    const newer = (await (await fetch(`${stack.gatewayUrl}/workflows?type=email-triage&idPrefix=triage-e2e-&updatedAfter=${middle}&limit=1000`, { headers: stack.headers('viewer') })).json()) as {
      items: Array<{ updatedAt: string }>;
    };
    expect(newer.items.length).toBe(times.filter((time) => time > middle).length);
  });

  it('archives the journals of finished workflows by policy, says so on each record, and still replays them from the archive', async () => {
    const { items } = (await (await fetch(`${stack.gatewayUrl}/workflows?limit=1000`, { headers: stack.headers('viewer') })).json()) as { items: Array<{ workflowId: string; status: string }> };
    const finished = items.filter((item) => item.status !== 'active').map((item) => item.workflowId);
    expect(finished.length).toBeGreaterThan(0);
    const persistence = await createPersistence({ nats: stack.connection });
    const report = await applyJournalRetention({
      store: persistence.snapshots,
      journal: persistence.journal,
      archive: persistence.journalArchive,
      archiveName: STREAMS.journalArchive.name,
      policy: { olderThanMs: 0, mode: 'archive' },
      now: () => new Date(Date.now() + 1_000),
    });
    await persistence.close();
    expect(report.skipped).toEqual([]);
    expect(report.archived.map((a) => a.workflowId).sort()).toEqual([...finished].sort());

    const archived = finished[0];
    const view = (await (await fetch(`${stack.gatewayUrl}/workflows/${archived}`, { headers: stack.headers('viewer') })).json()) as WorkflowView & { version: number; journalRetention: Record<string, unknown> | null };
    expect(view.journal).toEqual([]);
    expect(view.journalRetention).toMatchObject({ mode: 'archive', archive: 'TROUPE_JOURNAL_ARCHIVE', lastSeq: view.version });
    const replay = (await (await fetch(`${stack.gatewayUrl}/workflows/${archived}/replay`, { headers: stack.headers('viewer') })).json()) as Record<string, unknown>;
    expect(replay).toMatchObject({ step: view.version, matchesSnapshot: true, matchesStoredSnapshot: true });
  });
});
