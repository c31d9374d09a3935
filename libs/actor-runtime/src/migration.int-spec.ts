import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KvSnapshotStore, StreamJournal } from '@troupe/persistence';
import { deliverRetryingConflicts as deliver, startNatsServer, type NatsServerHandle } from '@troupe/testing';
import { ActorRuntime, migrateWorkflows, replayJournal, type MigrationReport } from '@troupe/actor-runtime';
import { counterEvent, counterV1, counterV1ToV2, counterV2 } from './history.fixtures';

let server: NatsServerHandle;
let nats: NatsConnection;

beforeAll(async () => {
  server = await startNatsServer();
  nats = await connect({ servers: server.url });
});

afterAll(async () => {
  await nats?.close();
  await server?.stop();
});


describe('migrating 100 running counter workflows from v1 to v2 on the embedded store (real NATS)', () => {
  it('moves the migratable ones, reports the rest, and every instance completes on its own version', async () => {
    const bucket = `snapshots_${randomUUID().replace(/-/g, '')}`;
    const store = await KvSnapshotStore.open({ nats, bucket });
    const journal = await StreamJournal.open({ nats });
    const run = randomUUID().slice(0, 8);
    const ids = Array.from({ length: 100 }, (_, n) => `mig-${run}-${String(n).padStart(3, '0')}`);
    const paused = new Set(ids.filter((_, n) => n % 10 < 3));
    const now = () => new Date('2026-01-01T00:00:00.000Z');

    // The orchestrator before the deploy knows only v1.
    const before = new ActorRuntime({ definitions: [counterV1], store, journal, publish: async () => undefined, now });
    for (const id of ids) {
      await deliver(before, counterEvent(id, 'counter.opened', { owner: id }));
      await deliver(before, counterEvent(id, 'counter.bumped', { by: 2 }));
      if (paused.has(id)) await deliver(before, counterEvent(id, 'counter.paused', {}));
    }

    // After the deploy it knows both; the migration runs in pages of 40 while events keep arriving.
    const after = new ActorRuntime({ definitions: [counterV1, counterV2], store, journal, publish: async () => undefined, now });
    const options = { store, journal, migration: counterV1ToV2, definitions: [counterV1, counterV2], now, limit: 40 };
    const reports: MigrationReport[] = [];
    const busy = ids.filter((id, n) => !paused.has(id) && n % 7 === 0);
    const traffic = Promise.all(busy.map((id) => deliver(after, counterEvent(id, 'counter.bumped', { by: 1 }))));
    let cursor: string | undefined;
    do {
      const report = await migrateWorkflows({ ...options, cursor });
      reports.push(report);
      cursor = report.nextCursor ?? undefined;
    } while (cursor !== undefined);
    await traffic;
    expect(reports.length).toBeGreaterThanOrEqual(3);
    // A second pass (the operation is resumable and repeatable) picks up any instance that lost a race.
    const second = await migrateWorkflows({ ...options, limit: 1_000 });

    const moved = new Set([...reports, second].flatMap((report) => report.moved.map((m) => m.workflowId)));
    const refusedFirstPass = new Set(reports.flatMap((report) => report.refused.map((r) => r.workflowId)));
    const conflicted = reports.flatMap((report) => report.conflicts.map((c) => c.workflowId));
    expect(moved.size).toBe(70);
    expect([...moved].some((id) => paused.has(id))).toBe(false);
    expect(refusedFirstPass).toEqual(paused);
    expect(second.refused.map((r) => r.workflowId).sort()).toEqual([...paused].sort());
    for (const id of conflicted) expect(moved.has(id)).toBe(true);
    for (const report of reports) for (const refused of report.refused) expect(refused).toMatchObject({ stateValue: 'paused', reason: expect.stringContaining('no state') });
    expect(await migrateWorkflows({ ...options, limit: 1_000 })).toMatchObject({ moved: [], conflicts: [] });

    // A new instance starts on v2.
    await deliver(after, counterEvent(`mig-${run}-new`, 'counter.opened', { owner: 'new' }));
    expect(await store.load(`mig-${run}-new`)).toMatchObject({ machineVersion: '2', stateValue: 'counting' });

    // Every instance completes: the migrated ones on v2, the refused ones (still paused) on v1.
    for (const id of ids) {
      if (paused.has(id)) await deliver(after, counterEvent(id, 'counter.resumed', {}));
      else await deliver(after, counterEvent(id, 'counter.bumped', { by: 10 }));
      expect(await deliver(after, counterEvent(id, 'counter.closed', {}))).toMatchObject({ kind: 'applied', stateValue: 'closed' });
    }
    const versions = { '1': 0, '2': 0 } as Record<string, number>;
    for (const id of ids) {
      const record = (await store.load(id))!;
      expect(record).toMatchObject({ status: 'done', stateValue: 'closed' });
      versions[record.machineVersion] += 1;
      const entries = await journal.read(id);
      expect(entries.filter((e) => e.eventType === 'workflow.migrated')).toHaveLength(paused.has(id) ? 0 : 1);
      const replay = replayJournal(entries, [counterV1, counterV2]);
      expect(replay.mismatches, id).toEqual([]);
      expect(replay.context).toMatchObject({ count: paused.has(id) ? 2 : busy.includes(id) ? 13 : 12 });
    }
    expect(versions).toEqual({ '1': 30, '2': 70 });
    await (await nats.jetstream().views.kv(bucket)).destroy();
  });
});
