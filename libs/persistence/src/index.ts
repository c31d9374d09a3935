/**
 * @troupe/persistence: where workflow actors are kept between events.
 *
 * Three stores, each one interface with two adapters:
 * - {@link SnapshotStore}: the snapshot document of each workflow actor (XState snapshot, version,
 *   outbox, read-model fields), written only with a version precondition
 *   ({@link VersionConflictError} when another owner wrote first), and queried by the gateway.
 * - {@link Journal}: the append-only, idempotent history of applied events (audit trail, replay).
 * - {@link SentMailLedger}: replies recorded at most once per idempotency key.
 *
 * The read model (`list`, `count` of {@link ReadModelStore}) filters by type, machine version, status,
 * state path, tag, id prefix and update time, sorts by id or `updatedAt`, and pages by cursor.
 * {@link applyJournalRetention} archives or deletes finished workflows' journals by a policy, recording
 * on each record what it did.
 *
 * Start with {@link createPersistence}: MongoDB when given a URI, otherwise the embedded default on
 * JetStream (KV buckets and a stream, over the NATS connection the process already has). The adapter
 * classes are exported for tests and custom wiring. Each adapter passes the same contract suite,
 * exported separately from `libs/persistence/src/testing` (it imports vitest).
 */
export type {
  OutboxMessage,
  ActiveTimer,
  JournalRetention,
  RetainableJournal,
  WorkflowRecord,
  WorkflowQuery,
  WorkflowFilter,
  WorkflowSort,
  WorkflowSortField,
  WorkflowCounts,
  WorkflowPage,
  SnapshotStore,
  ReadModelStore,
  Journal,
  SentMailRecord,
  SentMailLedger,
  Persistence,
} from './types';
export { PersistenceError, VersionConflictError } from './errors';
export { createPersistence, DEFAULT_MONGO_DB_NAME, type CreatePersistenceOptions } from './create-persistence';
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './query';
export { KvSnapshotStore, type KvSnapshotStoreOptions } from './embedded/kv-snapshot-store';
export { StreamJournal, type StreamJournalOptions } from './embedded/stream-journal';
export { KvSentMailLedger, type KvSentMailLedgerOptions } from './embedded/kv-sent-mail-ledger';
export { MongoSnapshotStore, type MongoStoreOptions } from './mongodb/mongo-snapshot-store';
export { MongoJournal, JOURNAL_COLLECTION, JOURNAL_ARCHIVE_COLLECTION } from './mongodb/mongo-journal';
export { MongoSentMailLedger } from './mongodb/mongo-sent-mail-ledger';
export {
  applyJournalRetention,
  retentionPolicyName,
  type JournalRetentionPolicy,
  type ApplyJournalRetentionOptions,
  type JournalRetentionReport,
} from './retention';
