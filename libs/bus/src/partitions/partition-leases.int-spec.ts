import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { connect, type NatsConnection } from 'nats';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer, type NatsServerHandle } from '@troupe/testing';
import { PartitionLeaseManager, readPartitionLeases, type PartitionLossReason } from './partition-leases';

const PARTITIONS = 16;
const TTL_MS = 2_000;
const RENEW_MS = Math.floor(TTL_MS / 3);

let server: NatsServerHandle;
const connections: NatsConnection[] = [];
const managers: PartitionLeaseManager[] = [];

beforeAll(async () => {
  server = await startNatsServer();
});

afterEach(async () => {
  await Promise.all(managers.splice(0).map((manager) => manager.stop()));
  await Promise.all(connections.splice(0).map((connection) => (connection.isClosed() ? undefined : connection.close())));
});

afterAll(async () => {
  await server?.stop();
});

interface Member {
  manager: PartitionLeaseManager;
  connection: NatsConnection;
  /** What the callbacks saw, with `performance.now()` times (ms). */
  events: Array<{ at: number; kind: 'acquired' | 'lost'; partition: number; reason?: PartitionLossReason }>;
}

/** A manager on its own connection (so closing that connection is a crash), started. */
async function member(
  bucket: string,
  name: string,
  options: { leaseTtlMs?: number; renewEveryMs?: number; onAcquired?: (partition: number) => void } = {},
): Promise<Member> {
  const connection = await connect({ servers: server.url, name });
  connections.push(connection);
  const events: Member['events'] = [];
  const manager = new PartitionLeaseManager({
    nats: connection,
    ownerId: `${name}:${randomUUID().slice(0, 8)}`,
    bucket,
    partitionCount: PARTITIONS,
    leaseTtlMs: options.leaseTtlMs ?? TTL_MS,
    renewEveryMs: options.renewEveryMs ?? RENEW_MS,
    onAcquired: (partition) => {
      options.onAcquired?.(partition);
      events.push({ at: performance.now(), kind: 'acquired', partition });
    },
    onLost: (partition, reason) => {
      events.push({ at: performance.now(), kind: 'lost', partition, reason });
    },
  });
  managers.push(manager);
  await manager.start();
  return { manager, connection, events };
}

function testBucket(): string {
  return `leases_${randomUUID().replace(/-/g, '')}`;
}

/**
 * Polls until `predicate` holds (or `timeoutMs`), checking on every poll that no partition is owned by
 * two of `members` at once; returns the time it took (ms).
 */
async function until(members: Member[], predicate: () => boolean, timeoutMs = 15_000): Promise<number> {
  const startedAt = performance.now();
  for (;;) {
    const seen = new Map<number, string>();
    for (const { manager } of members) {
      for (const partition of manager.owned()) {
        expect(seen.get(partition), `partition ${partition} owned by ${seen.get(partition)} and ${manager.ownerId}`).toBeUndefined();
        seen.set(partition, manager.ownerId);
      }
    }
    if (predicate()) return performance.now() - startedAt;
    if (performance.now() - startedAt > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms: ${members.map((m) => `${m.manager.ownerId}=[${m.manager.owned()}]`).join(' ')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** True when `members` own every partition between them and their counts are `counts` (in any order). */
function split(members: Member[], counts: number[]): boolean {
  const owned = members.map((m) => m.manager.owned());
  const all = new Set(owned.flat());
  return all.size === PARTITIONS && JSON.stringify(owned.map((o) => o.length).sort()) === JSON.stringify([...counts].sort());
}

/** The bucket's view: partition → owner id. */
async function bucketOwners(connection: NatsConnection, bucket: string): Promise<Map<number, string>> {
  const leases = await readPartitionLeases(connection, { bucket, partitionCount: PARTITIONS });
  return new Map(leases.map((lease) => [lease.partition, lease.ownerId]));
}

describe('PartitionLeaseManager', () => {
  it('splits 16 partitions between three members, each partition owned by exactly one, as the bucket says', async () => {
    const bucket = testBucket();
    const members = [await member(bucket, 'a'), await member(bucket, 'b'), await member(bucket, 'c')];
    await until(members, () => split(members, [5, 5, 6]));

    const owners = await bucketOwners(members[0].connection, bucket);
    expect(owners.size).toBe(PARTITIONS);
    for (const { manager } of members) {
      for (const partition of manager.owned()) expect(owners.get(partition)).toBe(manager.ownerId);
    }
    // Still the same after several renewals.
    await new Promise((resolve) => setTimeout(resolve, 3 * RENEW_MS));
    expect(split(members, [5, 5, 6])).toBe(true);
  });

  it('gives a newcomer its share: the others release their surplus', async () => {
    const bucket = testBucket();
    const first = [await member(bucket, 'a'), await member(bucket, 'b')];
    await until(first, () => split(first, [8, 8]));
    const all = [...first, await member(bucket, 'c')];
    await until(all, () => split(all, [5, 5, 6]));
    expect(first.flatMap((m) => m.events).filter((e) => e.kind === 'lost').every((e) => e.reason === 'released')).toBe(true);
  });

  it('moves the partitions of a member that stops renewing to the others within the TTL and one renew period', async () => {
    const bucket = testBucket();
    const members = [await member(bucket, 'a'), await member(bucket, 'b'), await member(bucket, 'c')];
    await until(members, () => split(members, [5, 5, 6]));
    const [crashed, ...survivors] = members;
    const orphans = crashed.manager.owned();

    // A crash: no renewal, no release (the connection is gone; the timers find it closed).
    const crashedAt = performance.now();
    await crashed.connection.close();
    const movedMs = await until(survivors, () => split(survivors, [8, 8]), TTL_MS + RENEW_MS + 5_000);
    console.log(`partitions [${orphans}] moved ${Math.round(movedMs)} ms after the crash (TTL ${TTL_MS} ms, renew ${RENEW_MS} ms)`);
    expect(movedMs).toBeLessThanOrEqual(TTL_MS + RENEW_MS + 1_000);

    // The crashed member gave each lease up before anyone else could take it.
    const lostAt = new Map(crashed.events.filter((e) => e.kind === 'lost').map((e) => [e.partition, e]));
    for (const partition of orphans) {
      const takenAt = survivors.flatMap((m) => m.events).find((e) => e.kind === 'acquired' && e.partition === partition && e.at > crashedAt)!.at;
      expect(lostAt.get(partition)?.reason).toBe('unreachable');
      expect(lostAt.get(partition)!.at).toBeLessThan(takenAt);
    }
    const owners = await bucketOwners(survivors[0].connection, bucket);
    expect([...owners.values()].filter((owner) => owner === crashed.manager.ownerId)).toEqual([]);
  });

  it('hands partitions over at once when a member stops: well before the lease TTL', async () => {
    const bucket = testBucket();
    const ttlMs = 10_000;
    const members = [await member(bucket, 'a', { leaseTtlMs: ttlMs, renewEveryMs: 1_000 }), await member(bucket, 'b', { leaseTtlMs: ttlMs, renewEveryMs: 1_000 })];
    await until(members, () => split(members, [8, 8]));
    const [leaving, staying] = members;
    const stoppedAt = performance.now();
    await leaving.manager.stop();
    expect(leaving.manager.owned()).toEqual([]);
    expect(leaving.events.filter((e) => e.kind === 'lost' && e.at >= stoppedAt).map((e) => e.reason)).toEqual(Array(8).fill('released'));
    const movedMs = await until([staying], () => staying.manager.owned().length === PARTITIONS);
    console.log(`partitions moved ${Math.round(movedMs)} ms after a release (TTL ${ttlMs} ms, renew ${staying.manager.renewEveryMs} ms)`);
    expect(movedMs).toBeLessThan(ttlMs / 2);
  });

  it('releases a partition whose onAcquired failed and takes it on a later round', async () => {
    const bucket = testBucket();
    let failures = 0;
    const only = await member(bucket, 'a', {
      onAcquired: (partition) => {
        if (partition === 3 && failures++ === 0) throw new Error('consumer could not start');
      },
    });
    await until([only], () => only.manager.owned().length === PARTITIONS);
    expect(failures).toBe(2);
    expect(only.events.filter((e) => e.partition === 3).map((e) => e.kind)).toEqual(['lost', 'acquired']);
  });

  it('rejects a renew period that would let leases expire between renewals', () => {
    expect(() => new PartitionLeaseManager({ nats: {} as NatsConnection, ownerId: 'x', leaseTtlMs: 3_000, renewEveryMs: 2_000 })).toThrow(RangeError);
  });
});
