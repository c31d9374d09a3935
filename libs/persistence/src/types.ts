import type { Envelope, JournalEntry, PendingApproval, StateValue, WorkflowStatus } from '@troupe/contracts';

/** A message waiting in a workflow's transactional outbox. `id` becomes the `Nats-Msg-Id`. */
export interface OutboxMessage {
  /** `<workflowId>:<version>:<n>`: the idempotency key of the effect, and the JetStream dedupe id. */
  id: string;
  subject: string;
  envelope: Envelope;
}

/** What retention did to a completed workflow's journal, recorded on its snapshot document. */
export interface JournalRetention {
  /** `archive`: the entries were copied to the archive, then removed; `delete`: removed (compacted away). */
  mode: 'archive' | 'delete';
  /** When (ISO-8601 UTC). */
  at: string;
  /** How many entries, and the last one's seq and snapshot digest (what replay would have checked). */
  entries: number;
  lastSeq: number;
  lastSnapshotDigest: string | null;
  /** Where archived entries are (`TROUPE_JOURNAL_ARCHIVE` stream or `journal_archive` collection); null for `delete`. */
  archive: string | null;
  /** The policy that did it, e.g. `completed-older-than:2592000000ms`. */
  policy: string;
}

/** A durable timer a workflow waits on. `dueAt` ISO-8601 UTC. */
export interface ActiveTimer {
  timerId: string;
  sendId: string;
  dueAt: string;
  event: { type: string; [key: string]: unknown };
}

/**
 * The snapshot document of one workflow actor: the persisted XState snapshot plus what the runtime and
 * the read model need. Written only with a version precondition (optimistic concurrency).
 * Timestamps are ISO-8601 strings.
 */
export interface WorkflowRecord {
  workflowId: string;
  workflowType: string;
  /** Version of the machine definition that wrote the snapshot. */
  machineVersion: string;
  /** Incremented by one on every applied event; 1 after the start event. */
  version: number;
  /** The machine's persisted snapshot (JSON-safe). */
  snapshot: unknown;
  status: WorkflowStatus;
  stateValue: StateValue;
  /** Dotted paths of every active state node, e.g. `["drafting"]` or `["review", "review.waiting"]`. */
  statePaths: string[];
  /** Small indexed facts the machine exposes for queries (label, route, …). */
  tags: Record<string, string>;
  /** Ids of the most recently applied events, oldest first (the dedupe window). */
  appliedEventIds: string[];
  /**
   * Set once retention archived or deleted this workflow's journal (the record stays; its version does
   * not change). Absent while the journal is whole.
   */
  journalRetention?: JournalRetention;
  /** Messages persisted with this version and not yet confirmed published. */
  outbox: OutboxMessage[];
  /** Journal entries persisted with this version and not yet confirmed appended to the journal. */
  pendingJournal: JournalEntry[];
  pendingApproval: PendingApproval | null;
  /**
   * Durable timers the machine is waiting on (absent in records written before timers existed). Each is
   * also a `timer.scheduled` message; a firing is applied only while its timer is listed here.
   */
  timers?: ActiveTimer[];
  correlationId: string;
  /** The workflow's trace id (32 hex digits), set by its first step when tracing is on; null otherwise. */
  traceId: string | null;
  /**
   * W3C `traceparent` of the workflow's latest step span in that trace (absent in records written
   * before it existed), so an event from outside the trace (an operator's decision) can continue it.
   */
  traceParent?: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Fields a read-model query can sort by; ties are broken by `workflowId` in the same order. */
export type WorkflowSortField = 'workflowId' | 'updatedAt';

/** Sort order of a read-model query (default `{ field: 'workflowId', order: 'asc' }`). */
export interface WorkflowSort {
  field: WorkflowSortField;
  order: 'asc' | 'desc';
}

/** The filters of a read-model query. Every filter is optional; given ones combine with "and". */
export interface WorkflowFilter {
  workflowType?: string;
  /** Matches records written by this machine version. */
  machineVersion?: string;
  status?: WorkflowStatus;
  /** Matches records with this exact dotted path in `statePaths` (e.g. `awaitingApproval`). */
  state?: string;
  /** Matches records whose `tags[key] === value`. */
  tag?: { key: string; value: string };
  /** Only workflow ids starting with this prefix. */
  idPrefix?: string;
  /**
   * Matches records whose machine context holds `value` at the dotted `path` (`[A-Za-z0-9_]` segments,
   * e.g. `classification.label`), with MongoDB's semantics: an array on the way matches when any
   * element does. Values compare by type and value (`"3"` is not `3`).
   */
  context?: { path: string; value: string | number | boolean };
  /**
   * Only records with `updatedAt` strictly before / strictly after this instant. ISO-8601 UTC with
   * milliseconds and `Z` (as `Date.toISOString()` writes, and as every record's `updatedAt` is): the
   * stores compare the strings.
   */
  updatedBefore?: string;
  updatedAfter?: string;
}

/** A read-model query: filters, sort, and a page. */
export interface WorkflowQuery extends WorkflowFilter {
  /** Default: by `workflowId` ascending. */
  sort?: WorkflowSort;
  /** Page size, 1–1000 (default 100). */
  limit?: number;
  /** Opaque cursor from a previous page's `nextCursor`, made under the same sort. */
  cursor?: string;
}

/** Counts of the records matching a filter. */
export interface WorkflowCounts {
  total: number;
  /** Records per status; statuses with none are absent. */
  byStatus: Record<string, number>;
  /** Records per state path: a record counts once under each of its `statePaths` (parents and leaves). */
  byState: Record<string, number>;
}

/** One page of a query. `nextCursor` is null on the last page. */
export interface WorkflowPage {
  items: WorkflowRecord[];
  nextCursor: string | null;
}

/**
 * Stores workflow snapshot documents. One contract, several adapters (JetStream KV, MongoDB); the
 * shared contract suite in `snapshot-store.contract.ts` runs against each.
 */
export interface SnapshotStore {
  /** The record of `workflowId`, or null when none was ever saved. */
  load(workflowId: string): Promise<WorkflowRecord | null>;
  /**
   * Writes `record` if the stored version is still `expectedVersion` (0: no record may exist yet).
   * `record.version` is usually `expectedVersion + 1`; equal to it when only the outbox is cleared.
   *
   * @throws VersionConflictError when another writer got there first.
   */
  save(record: WorkflowRecord, expectedVersion: number): Promise<void>;
  /**
   * Read-model query (the embedded store may scan; it must stay correct).
   *
   * @throws SchemaValidationError when `query.cursor` was not made by this store under `query.sort`.
   */
  list(query: WorkflowQuery): Promise<WorkflowPage>;
}

/**
 * A snapshot store that also counts (both adapters are one). Kept apart from {@link SnapshotStore} so
 * runtime test doubles need not count.
 */
export interface ReadModelStore extends SnapshotStore {
  /** Counts per status and per state path of the records matching `filter` (the embedded store scans). */
  count(filter: WorkflowFilter): Promise<WorkflowCounts>;
}

/** The append-only journal of applied events (the audit trail and the source of replay). */
export interface Journal {
  /** Appends `entry`; appending the same `(workflowId, seq)` again is a no-op (idempotent). */
  append(entry: JournalEntry): Promise<void>;
  /** Entries of one workflow in `seq` order. */
  read(workflowId: string): Promise<JournalEntry[]>;
}

/** A journal whose entries of one workflow can be removed (by retention only, never by the runtime). */
export interface RetainableJournal extends Journal {
  /** Removes every entry of `workflowId`; returns how many were removed (0 for none or an invalid id). */
  remove(workflowId: string): Promise<number>;
}

/** A reply recorded by the send effect. `sentAt` ISO-8601. */
export interface SentMailRecord {
  idempotencyKey: string;
  workflowId: string;
  to: string;
  subject: string;
  body: string;
  inReplyTo: string | null;
  sentAt: string;
}

/** The outbox of sent replies: each idempotency key is recorded at most once. */
export interface SentMailLedger {
  /**
   * Records `record` unless its key is already there. Returns the stored record and whether this call
   * wrote it (`firstDelivery`), so a redelivered send returns the first result instead of sending twice.
   */
  recordOnce(record: SentMailRecord): Promise<{ record: SentMailRecord; firstDelivery: boolean }>;
  /** Every recorded reply (for reports and tests; the embedded ledger scans its bucket). */
  list(): Promise<SentMailRecord[]>;
}

/** The stores of one process, and how to close them. */
export interface Persistence {
  /** `embedded` (JetStream KV + stream) or `mongodb`. */
  kind: 'embedded' | 'mongodb';
  snapshots: ReadModelStore;
  journal: RetainableJournal;
  /** Where retention moves archived journal entries: stream `TROUPE_JOURNAL_ARCHIVE` or collection `journal_archive`. */
  journalArchive: RetainableJournal;
  sentMail: SentMailLedger;
  close(): Promise<void>;
}
