import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe } from 'vitest';
import { describeJournalContract, describeJournalRetentionContract, describeSentMailLedgerContract, describeSnapshotStoreContract } from '../testing';
import { JOURNAL_ARCHIVE_COLLECTION, MongoJournal } from './mongo-journal';
import { MongoSentMailLedger } from './mongo-sent-mail-ledger';
import { MongoSnapshotStore } from './mongo-snapshot-store';

// MongoDB is not started by the tests: point MONGODB_URI at a replica set (majority writes) to run them.
const mongoUri = process.env.MONGODB_URI;
if (mongoUri === undefined || mongoUri === '') {
  console.warn('MongoDB contract suite skipped: MONGODB_URI is not set');
}

describe.skipIf(mongoUri === undefined || mongoUri === '')('MongoDB adapters', () => {
  const run = randomUUID().replace(/-/g, '').slice(0, 12);
  const databases = new Set<string>();
  let client: MongoClient;
  let calls = 0;

  beforeAll(async () => {
    client = new MongoClient(mongoUri ?? '');
    await client.connect();
  });

  afterAll(async () => {
    if (client === undefined) return;
    for (const dbName of databases) await client.db(dbName).dropDatabase();
    await client.close();
  });

  /** A database unique to one test of this run; dropped by the test's cleanup and again after all. */
  function testDatabase(): { dbName: string; cleanup(): Promise<void> } {
    calls += 1;
    const dbName = `troupe_test_${run}_${calls}`;
    databases.add(dbName);
    return {
      dbName,
      cleanup: async () => {
        await client.db(dbName).dropDatabase();
        databases.delete(dbName);
      },
    };
  }

  describeSnapshotStoreContract('MongoDB', async () => {
    const { dbName, cleanup } = testDatabase();
    const store = new MongoSnapshotStore({ client, dbName });
    await store.ensureIndexes();
    return { store, cleanup };
  });

  describeJournalContract('MongoDB', async () => {
    const { dbName, cleanup } = testDatabase();
    const journal = new MongoJournal({ client, dbName });
    await journal.ensureIndexes();
    return { journal, cleanup };
  });

  describeJournalContract('MongoDB archive', async () => {
    const { dbName, cleanup } = testDatabase();
    const journal = new MongoJournal({ client, dbName, role: 'archive' });
    await journal.ensureIndexes();
    return { journal, cleanup };
  });

  describeJournalRetentionContract('MongoDB', async () => {
    const { dbName, cleanup } = testDatabase();
    const store = new MongoSnapshotStore({ client, dbName });
    const journal = new MongoJournal({ client, dbName });
    const archive = new MongoJournal({ client, dbName, role: 'archive' });
    await Promise.all([store.ensureIndexes(), journal.ensureIndexes(), archive.ensureIndexes()]);
    return { store, journal, archive, archiveName: JOURNAL_ARCHIVE_COLLECTION, cleanup };
  });

  describeSentMailLedgerContract('MongoDB', async () => {
    const { dbName, cleanup } = testDatabase();
    const ledger = new MongoSentMailLedger({ client, dbName });
    await ledger.ensureIndexes();
    return { ledger, cleanup };
  });
});
