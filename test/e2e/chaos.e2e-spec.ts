import path from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusSplit, loadSpamAssassinCorpus, parseCorpusEmail, type CorpusEmail } from '@troupe/email-corpus';
import { createPersistence } from '@troupe/persistence';
import { publishEmails, readJournalAtVersion, startTroupeStack, type TroupeStack } from '@troupe/testing';
import { trainNaiveBayesOnSpamAssassin } from '../../apps/agents/src/classifier/spamassassin-training';
import { HeaderRuleRouter } from '../../apps/supervisor/src/routing/header-rule-router';

const WORKFLOWS = Number(process.env.TROUPE_CHAOS_WORKFLOWS ?? 1_000);
const KILLS = Number(process.env.TROUPE_CHAOS_KILLS ?? 6);

/** A small seeded PRNG (mulberry32), so a failing chaos schedule can be replayed with the same seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe(`chaos: ${WORKFLOWS} triage workflows while orchestrator, supervisor and agents are SIGKILLed`, () => {
  let stack: TroupeStack;

  beforeAll(async () => {
    stack = await startTroupeStack();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('brings every workflow to its expected final state, applies no event twice and sends no reply twice', async () => {
    const seed = Number(process.env.TROUPE_CHAOS_SEED ?? Date.now() % 100_000);
    const random = prng(seed);
    const corpus = loadSpamAssassinCorpus();
    const emails: CorpusEmail[] = corpusSplit(corpus, 'test').slice(0, WORKFLOWS);

    // What a fault-free run gives: the offline classifier and router are deterministic, and every
    // pending decision is approved below (a review approval keeps the classifier's label).
    const { classifier } = await trainNaiveBayesOnSpamAssassin({ corpus, cacheFilePath: path.join(tmpdir(), 'troupe-chaos-spam-naive-bayes.json') });
    const router = new HeaderRuleRouter();
    const expected = new Map<number, string>();
    for (const [index, email] of emails.entries()) {
      const parsed = await parseCorpusEmail(email);
      const { label } = await classifier.classify(parsed);
      expected.set(index, label === 'spam' ? 'quarantined' : (await router.route(parsed)).route === 'summarise' ? 'summarised' : 'sent');
    }

    const publishing = publishEmails(stack, 'chaos', emails);
    const decided = new Set<string>();
    const approver = setInterval(() => {
      for (const workflow of stack.tracker.workflows.values()) {
        const pending = workflow.last?.pendingApproval;
        if (pending == null || decided.has(pending.gateId)) continue;
        decided.add(pending.gateId);
        void fetch(`${stack.gatewayUrl}/workflows/${workflow.workflowId}/approvals`, {
          method: 'POST',
          headers: stack.headers('approver'),
          body: JSON.stringify({ gateId: pending.gateId, decision: 'approved' }),
        }).catch(() => decided.delete(pending.gateId));
      }
    }, 250);

    const victims = ['orchestrator', 'agents', 'supervisor'] as const;
    const kills: string[] = [];
    for (let i = 0; i < KILLS && stack.tracker.progress().done < WORKFLOWS; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1_000 + Math.floor(random() * 3_000)));
      const victim = victims[Math.floor(random() * victims.length)];
      await stack.apps.get(victim)!.stop('SIGKILL');
      kills.push(`${victim}@${stack.tracker.progress().done}`);
      await stack.start(victim);
    }
    const workflowIds = await publishing;
    const allDone = await stack.tracker.waitFor(() => stack.tracker.progress().done === WORKFLOWS, 240_000);
    clearInterval(approver);
    expect(allDone, `seed ${seed}, kills ${kills.join(', ')}, progress ${JSON.stringify(stack.tracker.progress())}, logs ${stack.logDir}`).toBe(true);
    expect(kills.length).toBeGreaterThan(0);

    const persistence = await createPersistence({ nats: stack.connection });
    const mismatches: string[] = [];
    const sent: string[] = [];
    for (const [index, workflowId] of workflowIds.entries()) {
      const record = await persistence.snapshots.load(workflowId);
      const state = typeof record?.stateValue === 'string' ? record.stateValue : JSON.stringify(record?.stateValue);
      if (state !== expected.get(index)) mismatches.push(`${workflowId}: ${state}, expected ${expected.get(index)}`);
      if (state === 'sent') sent.push(workflowId);
      const journal = await readJournalAtVersion(persistence, workflowId);
      const applied = journal.filter((e) => e.rejection === null).map((e) => e.eventId);
      expect(new Set(applied).size, `${workflowId} applied an event twice`).toBe(applied.length);
      expect(journal.map((e) => e.seq)).toEqual(journal.map((_, i) => i + 1));
    }
    expect(mismatches, `seed ${seed}, kills ${kills.join(', ')}`).toEqual([]);
    const ledger = (await persistence.sentMail.list()).filter((r) => r.workflowId.startsWith('triage-chaos-'));
    expect(ledger.map((r) => r.workflowId).sort()).toEqual(sent.sort());
    await persistence.close();
    console.log(`chaos: ${WORKFLOWS} workflows, seed ${seed}, kills ${kills.join(', ')}, ${sent.length} replies sent once each`);
  });
});
