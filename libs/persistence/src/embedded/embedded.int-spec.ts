import { randomUUID } from 'node:crypto';
import { AckedPublisher } from '@troupe/bus';
import { startNatsServer, type NatsServerHandle } from '@troupe/testing';
import { connect, type NatsConnection } from 'nats';
import { journalSubject, SchemaValidationError, STREAMS } from '@troupe/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPersistence } from '../create-persistence';
import { VersionConflictError } from '../errors';
import { encodeJson } from '../records';
import { sampleJournalEntry, sampleWorkflowRecord, uniqueWorkflowId } from '../testing';
import { describeJournalContract, describeJournalRetentionContract, describeSentMailLedgerContract, describeSnapshotStoreContract } from '../testing';
import { KvSentMailLedger } from './kv-sent-mail-ledger';
import { KvSnapshotStore } from './kv-snapshot-store';
import { StreamJournal } from './stream-journal';

// One nats-server for the whole file; every snapshot and ledger test gets its own bucket.
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

/** A bucket name unique to one test. */
function testBucket(prefix: string): string {
  return `${prefix}_${randomUUID().replace(/-/g, '')}`;
}

async function destroyBucket(bucket: string): Promise<void> {
  await (await nats.jetstream().views.kv(bucket)).destroy();
}

describeSnapshotStoreContract('JetStream KV (embedded)', async () => {
  const bucket = testBucket('snapshots');
  return { store: await KvSnapshotStore.open({ nats, bucket }), cleanup: () => destroyBucket(bucket) };
});

describeSnapshotStoreContract('JetStream KV (embedded), without its revision cache', async () => {
  const bucket = testBucket('snapshots');
  return { store: await KvSnapshotStore.open({ nats, bucket, revisionCacheSize: 0 }), cleanup: () => destroyBucket(bucket) };
});

// The orchestrator's way: saves and appends through @troupe/bus's AckedPublisher (a test-only import;
// the library takes any `publish` of JetStreamClient's shape).
describeSnapshotStoreContract('JetStream KV (embedded), saves through AckedPublisher', async () => {
  const bucket = testBucket('snapshots');
  const publisher = new AckedPublisher(nats);
  return { store: await KvSnapshotStore.open({ nats, bucket, publisher }), cleanup: async () => { publisher.close(); await destroyBucket(bucket); } };
});

describeJournalContract('JetStream stream (embedded), appends through AckedPublisher', async () => {
  const publisher = new AckedPublisher(nats);
  return { journal: await StreamJournal.open({ nats, publisher }), cleanup: async () => publisher.close() };
});

describeJournalContract('JetStream stream (embedded)', async () => ({
  journal: await StreamJournal.open({ nats }),
  cleanup: async () => undefined,
}));

describeJournalContract('JetStream stream (embedded archive)', async () => ({
  journal: await StreamJournal.open({ nats, role: 'archive' }),
  cleanup: async () => undefined,
}));

describeJournalRetentionContract('JetStream KV + streams (embedded)', async () => {
  const bucket = testBucket('snapshots');
  return {
    store: await KvSnapshotStore.open({ nats, bucket }),
    journal: await StreamJournal.open({ nats }),
    archive: await StreamJournal.open({ nats, role: 'archive' }),
    archiveName: STREAMS.journalArchive.name,
    cleanup: () => destroyBucket(bucket),
  };
});

describeSentMailLedgerContract('JetStream KV (embedded)', async () => {
  const bucket = testBucket('sent_mail');
  return { ledger: await KvSentMailLedger.open({ nats, bucket }), cleanup: () => destroyBucket(bucket) };
});

describe('KvSnapshotStore with two owners on one bucket', () => {
  it('refuses a save from a cached revision another owner has moved past', async () => {
    const bucket = testBucket('snapshots');
    const [a, b] = await Promise.all([KvSnapshotStore.open({ nats, bucket }), KvSnapshotStore.open({ nats, bucket })]);
    const record = sampleWorkflowRecord();
    await a.save(record, 0);
    await b.save({ ...record, version: 2 }, 1);
    const error = await a.save({ ...record, version: 2, tags: { writer: 'a' } }, 1).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VersionConflictError);
    expect(error).toMatchObject({ expectedVersion: 1, actualVersion: 2 });
    expect((await a.load(record.workflowId))?.version).toBe(2);
    await a.save({ ...record, version: 3 }, 2);
    expect((await b.load(record.workflowId))?.version).toBe(3);
    await destroyBucket(bucket);
  });

  it('accepts a save whose version is still stored although another owner rewrote it (an outbox clear)', async () => {
    const bucket = testBucket('snapshots');
    const [a, b] = await Promise.all([KvSnapshotStore.open({ nats, bucket }), KvSnapshotStore.open({ nats, bucket })]);
    const record = sampleWorkflowRecord();
    await a.save(record, 0);
    await b.save({ ...record, outbox: [] }, 1);
    const next = { ...record, version: 2 };
    await a.save(next, 1);
    expect(await b.load(record.workflowId)).toEqual(next);
    await destroyBucket(bucket);
  });

  it('creates a record over the delete marker of a removed one, and still refuses to create over a record', async () => {
    const bucket = testBucket('snapshots');
    const store = await KvSnapshotStore.open({ nats, bucket });
    const kv = await nats.jetstream().views.kv(bucket);
    const record = sampleWorkflowRecord();
    await store.save(record, 0);
    await kv.delete(record.workflowId);
    expect(await store.load(record.workflowId)).toBeNull();
    await store.save({ ...record, tags: { again: 'yes' } }, 0);
    expect((await store.load(record.workflowId))?.tags).toEqual({ again: 'yes' });
    await expect(store.save(record, 0)).rejects.toBeInstanceOf(VersionConflictError);
    await destroyBucket(bucket);
  });

  it('rejects a stored value that is not a workflow record with SchemaValidationError', async () => {
    const bucket = testBucket('snapshots');
    const store = await KvSnapshotStore.open({ nats, bucket });
    const kv = await nats.jetstream().views.kv(bucket);
    await kv.put('not-json', new TextEncoder().encode('{oops'));
    await kv.put('no-version', encodeJson({ ...sampleWorkflowRecord({ workflowId: 'no-version' }), version: 'one' }));
    await kv.put('wrong-key', encodeJson(sampleWorkflowRecord({ workflowId: 'another-id' })));
    for (const key of ['not-json', 'no-version', 'wrong-key']) {
      await expect(store.load(key)).rejects.toBeInstanceOf(SchemaValidationError);
    }
    await destroyBucket(bucket);
  });
});

describe('StreamJournal beyond the duplicate window', () => {
  it('keeps the first of two stored entries with the same seq', async () => {
    const journal = await StreamJournal.open({ nats });
    const workflowId = uniqueWorkflowId();
    const first = sampleJournalEntry(workflowId, 1);
    // Published without Nats-Msg-Id, as a repeat after the duplicate window would be stored.
    const js = nats.jetstream();
    await js.publish(journalSubject(workflowId), encodeJson(first));
    await js.publish(journalSubject(workflowId), encodeJson({ ...first, eventId: 'late-repeat' }));
    await journal.append(sampleJournalEntry(workflowId, 2));
    expect((await journal.read(workflowId)).map((entry) => [entry.seq, entry.eventId])).toEqual([
      [1, first.eventId],
      [2, `${workflowId}:event-2`],
    ]);
  });

  it('adds its stream when missing and opens an existing one as it is', async () => {
    const jsm = await nats.jetstreamManager();
    await jsm.streams.delete(STREAMS.journal.name);
    await StreamJournal.open({ nats });
    const { config } = await jsm.streams.info(STREAMS.journal.name);
    expect(config).toMatchObject({
      subjects: STREAMS.journal.subjects,
      retention: 'limits',
      max_age: 0,
      duplicate_window: STREAMS.journal.duplicateWindowMs * 1_000_000,
    });
    await StreamJournal.open({ nats });
    expect((await jsm.streams.info(STREAMS.journal.name)).config).toEqual(config);
  });
});

describe('createPersistence without a MongoDB URI', () => {
  it('opens the embedded stores on the default buckets and leaves the NATS connection open on close', async () => {
    const persistence = await createPersistence({ nats });
    expect(persistence.kind).toBe('embedded');
    const record = sampleWorkflowRecord();
    await persistence.snapshots.save(record, 0);
    await persistence.journal.append(sampleJournalEntry(record.workflowId, 1));
    await persistence.close();
    expect(nats.isClosed()).toBe(false);
    const reopened = await createPersistence({ nats });
    expect(await reopened.snapshots.load(record.workflowId)).toEqual(record);
    expect(await reopened.journal.read(record.workflowId)).toHaveLength(1);
    await reopened.close();
  });
});
