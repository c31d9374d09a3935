import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JournalEntry } from '@troupe/contracts';
import { corpusSplit, loadSpamAssassinCorpus, parseCorpusEmail, type CorpusEmail } from '@troupe/email-corpus';
import { createPersistence } from '@troupe/persistence';
import { pollJson, publishEmails, readJournalAtVersion, startTroupeStack, type TroupeStack } from '@troupe/testing';
import { HeaderRuleRouter } from '../../apps/supervisor/src/routing/header-rule-router';

const APPROVAL_TIMEOUT_MS = 2_000;

describe('a durable approval deadline', () => {
  let stack: TroupeStack;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    // The apps inherit this environment: a 2 s approval deadline, a long escalation deadline.
    process.env.TROUPE_APPROVAL_TIMEOUT_MS = String(APPROVAL_TIMEOUT_MS);
    process.env.TROUPE_ESCALATION_TIMEOUT_MS = '600000';
    stack = await startTroupeStack();
  });

  afterAll(async () => {
    await stack?.stop();
    process.env = savedEnv;
  });

  it('survives an orchestrator restart while it is due, and escalates once', async () => {
    const router = new HeaderRuleRouter();
    let email: CorpusEmail | undefined;
    for (const candidate of corpusSplit(loadSpamAssassinCorpus(), 'test').filter((e) => e.label === 'ham')) {
      if ((await router.route(await parseCorpusEmail(candidate))).route === 'draft_reply') {
        email = candidate;
        break;
      }
    }
    const [workflowId] = await publishEmails(stack, 'timer', [email!]);
    const tracked = () => stack.tracker.workflows.get(workflowId)!;
    expect(await stack.tracker.waitFor(() => tracked().last?.pendingApproval?.gate === 'reply-approval', 60_000)).toBe(true);

    // The orchestrator dies while the reply waits; the deadline passes while no orchestrator runs.
    await stack.apps.get('orchestrator')!.stop('SIGKILL');
    const persistence = await createPersistence({ nats: stack.connection });
    const waiting = await persistence.snapshots.load(workflowId);
    expect(waiting?.timers).toHaveLength(1);
    const dueAtMs = Date.parse(waiting!.timers![0].dueAt);
    // The pending approval names that timer's due time as its deadline, and what happens then.
    expect(waiting?.pendingApproval).toMatchObject({ gate: 'reply-approval', deadlineAt: waiting!.timers![0].dueAt, onDeadline: 'escalated' });
    await stack.tracker.waitFor(() => Date.now() > dueAtMs + 500, APPROVAL_TIMEOUT_MS + 5_000);
    expect(tracked().last?.stateValue).toBe('awaitingApproval');

    await stack.start('orchestrator');
    expect(await stack.tracker.waitFor(() => tracked().last?.stateValue === 'escalated', 30_000)).toBe(true);
    expect(tracked().last?.pendingApproval).toMatchObject({ gate: 'reply-approval-escalated', allowedRoles: ['admin'], onDeadline: 'rejected' });
    // The escalated gate's own deadline: TROUPE_ESCALATION_TIMEOUT_MS after it was requested.
    const escalated = tracked().last!.pendingApproval!;
    expect(Date.parse(escalated.deadlineAt ?? '') - Date.parse(escalated.requestedAt)).toBe(600_000);

    // Give a duplicate firing time to show up, then check the journal: one firing applied, one escalation.
    const escalatedVersion = tracked().last!.version;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const journal: JournalEntry[] = await readJournalAtVersion(persistence, workflowId);
    await persistence.close();
    const firings = journal.filter((e) => e.eventType === 'timer.fired');
    expect(firings.filter((e) => e.rejection === null)).toHaveLength(1);
    expect(journal.filter((e) => e.stateValue === 'escalated' && e.fromStateValue === 'awaitingApproval')).toHaveLength(1);
    expect(tracked().last?.version).toBe(escalatedVersion);
    expect(journal.map((e) => e.seq)).toEqual(journal.map((_, i) => i + 1));

    // The escalated gate takes admins only: an approver's decision is journaled as rejected with the
    // reason, an admin's moves the workflow on.
    const decide = (role: 'approver' | 'admin') =>
      fetch(`${stack.gatewayUrl}/workflows/${workflowId}/approvals`, { method: 'POST', headers: stack.headers(role), body: JSON.stringify({ decision: 'approved' }) });
    expect((await decide('approver')).status).toBe(202);
    type View = { stateValue: unknown; journal: JournalEntry[] };
    const refused = await pollJson<View>(`${stack.gatewayUrl}/workflows/${workflowId}`, (b) => b.journal.at(-1)?.eventType === 'approval.decided', 30_000, stack.headers('viewer'));
    expect(refused.journal.at(-1)?.rejection).toBe('e2e-approver (roles approver) may not decide gate reply-approval-escalated: allowed roles are admin');
    expect(refused.stateValue).toBe('escalated');
    expect((await decide('admin')).status).toBe(202);
    const sent = await pollJson<View>(`${stack.gatewayUrl}/workflows/${workflowId}`, (b) => b.stateValue === 'sent', 30_000, stack.headers('viewer'));
    expect(sent.stateValue).toBe('sent');
  });
});
