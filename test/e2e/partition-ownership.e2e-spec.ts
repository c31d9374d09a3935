import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPartitionLeases } from '@troupe/bus';
import { DEFAULT_PARTITION_COUNT, EMAIL_CLASSIFIED, EMAIL_RECEIVED, type JournalEntry } from '@troupe/contracts';
import { corpusSplit, loadSpamAssassinCorpus } from '@troupe/email-corpus';
import { createPersistence } from '@troupe/persistence';
import { publishEmails, readDeadLetters, readJournalAtVersion, startTroupeStack, type TroupeStack } from '@troupe/testing';

const LEASE_TTL_MS = 3_000;
const RENEW_MS = LEASE_TTL_MS / 3;
const WORKFLOWS = 200;

/** Partition → pid of the orchestrator holding its lease (owner ids are `hostname:pid:random`). */
async function leaseHolders(stack: TroupeStack): Promise<Map<number, number>> {
  const leases = await readPartitionLeases(stack.connection);
  return new Map(leases.map((lease) => [lease.partition, Number(lease.ownerId.split(':').at(-2))]));
}

/** Polls the lease bucket until `predicate` holds; returns the holders and how long it took (ms). */
async function untilHolders(stack: TroupeStack, predicate: (holders: Map<number, number>) => boolean, timeoutMs: number): Promise<{ holders: Map<number, number>; tookMs: number }> {
  const startedAt = Date.now();
  for (;;) {
    const holders = await leaseHolders(stack);
    if (predicate(holders)) return { holders, tookMs: Date.now() - startedAt };
    if (Date.now() - startedAt > timeoutMs) throw new Error(`lease holders ${JSON.stringify([...holders])} did not reach the expected split within ${timeoutMs} ms (logs in ${stack.logDir})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** How many partitions each pid holds, as a sorted list of counts. */
function counts(holders: Map<number, number>): number[] {
  const perPid = new Map<number, number>();
  for (const pid of holders.values()) perPid.set(pid, (perPid.get(pid) ?? 0) + 1);
  return [...perPid.values()].sort((a, b) => a - b);
}

/**
 * What is wrong with one workflow's journal, if anything: seq must run 1..n; each entry must start from
 * the state the previous one left; the first event must be `email.received` and the second
 * `email.classified`; every effect result must come after the entry that issued its effect.
 */
function journalProblems(journal: JournalEntry[]): string[] {
  const problems: string[] = [];
  const seqs = journal.map((e) => e.seq);
  if (!isDeepStrictEqual(seqs, journal.map((_, i) => i + 1))) problems.push(`seq ${JSON.stringify(seqs)}`);
  if (journal[0]?.eventType !== EMAIL_RECEIVED || journal[0].fromStateValue !== null) problems.push(`starts with ${journal[0]?.eventType}`);
  if (journal.length > 1 && journal[1].eventType !== EMAIL_CLASSIFIED) problems.push(`second event ${journal[1].eventType}`);
  const applied = journal.filter((e) => e.rejection === null).map((e) => e.eventId);
  if (new Set(applied).size !== applied.length) problems.push('an event applied twice');
  const issuedAt = new Map<string, number>();
  for (const [i, entry] of journal.entries()) {
    if (i > 0 && !isDeepStrictEqual(entry.fromStateValue, journal[i - 1].stateValue)) {
      problems.push(`seq ${entry.seq} starts from ${JSON.stringify(entry.fromStateValue)}, not ${JSON.stringify(journal[i - 1].stateValue)}`);
    }
    if (entry.eventId.endsWith(':result')) {
      const effectId = entry.eventId.slice(0, -':result'.length);
      const issued = issuedAt.get(effectId);
      if (issued === undefined) problems.push(`seq ${entry.seq} (${entry.eventType}) answers effect ${effectId}, not issued before it`);
    }
    for (const effect of entry.effects) issuedAt.set(effect.id, entry.seq);
  }
  return problems;
}

describe('three orchestrator replicas sharing 16 partitions by leases', () => {
  let stack: TroupeStack;

  beforeAll(async () => {
    stack = await startTroupeStack({ orchestrators: 3, leaseTtlMs: LEASE_TTL_MS });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('moves the partitions of a SIGKILLed replica to the others within the lease TTL and applies every workflow in order', async () => {
    const since = new Date();
    const pids = stack.orchestrators.map((o) => o.process.pid!);
    const split = await untilHolders(stack, (h) => h.size === DEFAULT_PARTITION_COUNT && isDeepStrictEqual(counts(h), [5, 5, 6]), 30_000);
    expect(new Set(split.holders.values())).toEqual(new Set(pids));

    const test = corpusSplit(loadSpamAssassinCorpus(), 'test');
    const emails = [...test.filter((e) => e.label === 'ham').slice(0, (WORKFLOWS * 3) / 4), ...test.filter((e) => e.label === 'spam').slice(0, WORKFLOWS / 4)];
    const publishing = publishEmails(stack, 'partitions', emails);

    // Kill one replica while some workflows are done and others in flight.
    expect(await stack.tracker.waitFor(() => stack.tracker.progress().settled >= 30, 120_000)).toBe(true);
    const victim = stack.orchestrators[1];
    const victimPid = victim.process.pid!;
    const orphans = [...(await leaseHolders(stack))].filter(([, pid]) => pid === victimPid).map(([partition]) => partition);
    expect(orphans.length).toBeGreaterThan(0);
    await victim.stop('SIGKILL');
    const killedAt = stack.tracker.progress();
    expect(killedAt.settled).toBeLessThan(WORKFLOWS);

    const moved = await untilHolders(stack, (h) => h.size === DEFAULT_PARTITION_COUNT && ![...h.values()].includes(victimPid), LEASE_TTL_MS + 10_000);
    console.log(
      `partitions [${orphans}] of the killed replica moved in ${moved.tookMs} ms (lease TTL ${LEASE_TTL_MS} ms, renew ${RENEW_MS} ms); ` +
        `split now ${JSON.stringify(counts(moved.holders))}; ${killedAt.settled}/${WORKFLOWS} workflows had settled at the kill`,
    );
    // Expiry (at most one TTL after the last renewal) plus a survivor's next round, with room for a busy machine.
    expect(moved.tookMs).toBeLessThanOrEqual(LEASE_TTL_MS + RENEW_MS + 2_000);
    expect(isDeepStrictEqual(counts(moved.holders), [8, 8])).toBe(true);

    const workflowIds = await publishing;
    const allSettled = await stack.tracker.waitFor(() => stack.tracker.progress().settled === workflowIds.length, 180_000);
    expect(allSettled, `progress ${JSON.stringify(stack.tracker.progress())}, logs in ${stack.logDir}`).toBe(true);

    const persistence = await createPersistence({ nats: stack.connection });
    const problems: string[] = [];
    for (const workflowId of workflowIds) {
      const journal = await readJournalAtVersion(persistence, workflowId);
      const record = await persistence.snapshots.load(workflowId);
      for (const problem of journalProblems(journal)) problems.push(`${workflowId}: ${problem}`);
      if (record === null || record.version !== journal.length) problems.push(`${workflowId}: version ${record?.version}, journal ${journal.length}`);
      else if (!isDeepStrictEqual(record.stateValue, journal.at(-1)!.stateValue)) problems.push(`${workflowId}: state ${JSON.stringify(record.stateValue)} is not the journal's last`);
    }
    await persistence.close();
    expect(problems).toEqual([]);
    expect(await readDeadLetters(stack.connection, since, 1, 1_000)).toEqual([]);
  });
});
