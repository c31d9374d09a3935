import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusSplit, loadSpamAssassinCorpus } from '@troupe/email-corpus';
import { createPersistence } from '@troupe/persistence';
import { publishEmails, readJournalAtVersion, startTroupeStack, type TroupeStack } from '@troupe/testing';

describe('an orchestrator killed with SIGKILL in the middle of a run', () => {
  let stack: TroupeStack;

  beforeAll(async () => {
    stack = await startTroupeStack();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('loses no workflow and sends no reply twice after a restart', async () => {
    const test = corpusSplit(loadSpamAssassinCorpus(), 'test');
    const emails = [...test.filter((e) => e.label === 'ham').slice(0, 90), ...test.filter((e) => e.label === 'spam').slice(0, 30)];
    const publishing = publishEmails(stack, 'crash', emails);
    // Kill once some workflows settled and others are still in flight.
    expect(await stack.tracker.waitFor(() => stack.tracker.progress().settled >= 15, 120_000)).toBe(true);
    await stack.apps.get('orchestrator')!.stop('SIGKILL');
    const killedAt = stack.tracker.progress();
    expect(killedAt.settled).toBeLessThan(emails.length);
    const workflowIds = await publishing;
    await stack.start('orchestrator');

    // Approve every reply that waits, as an operator, so every workflow can finish.
    const decided = new Set<string>();
    const approveWaiting = async (): Promise<void> => {
      for (const workflow of stack.tracker.workflows.values()) {
        const pending = workflow.last?.pendingApproval;
        if (pending == null || decided.has(pending.gateId)) continue;
        decided.add(pending.gateId);
        const response = await fetch(`${stack.gatewayUrl}/workflows/${workflow.workflowId}/approvals`, {
          method: 'POST',
          headers: stack.headers('approver'),
          body: JSON.stringify({ gateId: pending.gateId, decision: 'approved' }),
        });
        expect(response.status).toBe(202);
      }
    };
    const allDone = await stack.tracker.waitFor(() => {
      void approveWaiting();
      return stack.tracker.progress().done === workflowIds.length;
    }, 180_000);
    expect(allDone, `progress ${JSON.stringify(stack.tracker.progress())}, logs in ${stack.logDir}`).toBe(true);

    const persistence = await createPersistence({ nats: stack.connection });
    const records = await Promise.all(workflowIds.map((id) => persistence.snapshots.load(id)));
    expect(records.every((r) => r !== null && r.status === 'done')).toBe(true);
    const sentWorkflows = records.filter((r) => r!.stateValue === 'sent').map((r) => r!.workflowId);
    expect(sentWorkflows.length).toBeGreaterThan(0);
    const ledger = (await persistence.sentMail.list()).filter((r) => r.workflowId.startsWith('triage-crash-'));
    // Exactly one recorded reply per sent workflow, and none for any other.
    expect(ledger.map((r) => r.workflowId).sort()).toEqual([...sentWorkflows].sort());
    for (const workflowId of sentWorkflows) {
      const journal = await readJournalAtVersion(persistence, workflowId);
      expect(journal.filter((e) => e.eventType === 'reply.sent' && e.rejection === null)).toHaveLength(1);
      expect(journal.map((e) => e.seq)).toEqual(journal.map((_, i) => i + 1));
    }
    await persistence.close();
  });
});
