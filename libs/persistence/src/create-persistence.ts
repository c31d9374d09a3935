import { MongoClient } from 'mongodb';
import type { JetStreamClient, NatsConnection } from 'nats';
import { KvSentMailLedger } from './embedded/kv-sent-mail-ledger';
import { KvSnapshotStore } from './embedded/kv-snapshot-store';
import { StreamJournal } from './embedded/stream-journal';
import { MongoJournal } from './mongodb/mongo-journal';
import { MongoSentMailLedger } from './mongodb/mongo-sent-mail-ledger';
import { MongoSnapshotStore } from './mongodb/mongo-snapshot-store';
import type { Persistence } from './types';

/** Database name of the MongoDB adapters when {@link CreatePersistenceOptions.mongoDbName} is not given. */
export const DEFAULT_MONGO_DB_NAME = 'troupe';

/** Options of {@link createPersistence}. */
export interface CreatePersistenceOptions {
  /** A connection with JetStream enabled; used by the embedded stores. The caller owns and closes it. */
  nats: NatsConnection;
  /** A MongoDB connection string (a replica set for majority writes). Absent: the embedded stores. */
  mongoUri?: string;
  /** Database of the MongoDB stores; default {@link DEFAULT_MONGO_DB_NAME}. */
  mongoDbName?: string;
  /** Context paths the MongoDB snapshot store indexes for the read model's `context` filter. */
  indexedContextPaths?: readonly string[];
  /**
   * What the embedded snapshot store and journal publish with: default `nats.jetstream()`;
   * `AckedPublisher` of @troupe/bus on the orchestrator's hot path (no error built per publish).
   */
  publisher?: Pick<JetStreamClient, 'publish'>;
}

/**
 * The stores of one process: MongoDB when `mongoUri` is given (the client is connected here, indexes
 * are ensured, and `close()` closes the client), otherwise the embedded JetStream KV + stream stores
 * (buckets and the journal stream created when missing; `close()` leaves the NATS connection open).
 *
 * @throws MongoError when MongoDB cannot be reached or refuses the indexes (the client is closed).
 * @throws NatsError when JetStream is unavailable or refuses a bucket or the journal stream.
 */
export async function createPersistence(options: CreatePersistenceOptions): Promise<Persistence> {
  if (options.mongoUri !== undefined && options.mongoUri !== '') {
    const client = new MongoClient(options.mongoUri);
    try {
      await client.connect();
      const stores = { client, dbName: options.mongoDbName ?? DEFAULT_MONGO_DB_NAME };
      const snapshots = new MongoSnapshotStore({ ...stores, indexedContextPaths: options.indexedContextPaths });
      const journal = new MongoJournal(stores);
      const journalArchive = new MongoJournal({ ...stores, role: 'archive' });
      const sentMail = new MongoSentMailLedger(stores);
      await Promise.all([snapshots.ensureIndexes(), journal.ensureIndexes(), journalArchive.ensureIndexes(), sentMail.ensureIndexes()]);
      return { kind: 'mongodb', snapshots, journal, journalArchive, sentMail, close: () => client.close() };
    } catch (error) {
      await client.close().catch(() => undefined);
      throw error;
    }
  }
  const [snapshots, journal, journalArchive, sentMail] = await Promise.all([
    KvSnapshotStore.open({ nats: options.nats, publisher: options.publisher }),
    StreamJournal.open({ nats: options.nats, publisher: options.publisher }),
    StreamJournal.open({ nats: options.nats, role: 'archive', publisher: options.publisher }),
    KvSentMailLedger.open({ nats: options.nats }),
  ]);
  return { kind: 'embedded', snapshots, journal, journalArchive, sentMail, close: async () => undefined };
}
