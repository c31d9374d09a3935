import type { Envelope, JournalEntry, PendingApproval, StateValue, WorkflowStatus } from '@troupe/contracts';

/** A message waiting in a workflow's transactional outbox. `id` becomes the `Nats-Msg-Id`. */
export interface OutboxMessage {
  /** `<workflowId>:<version>:<n>`: the idempotency key of the effect, and the JetStream dedupe id. */
  id: string;
  subject: string;
  envelope: Envelope;
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

/** A read-model query. Every filter is optional; results are sorted by `workflowId` ascending. */
export interface WorkflowQuery {
  workflowType?: string;
  status?: WorkflowStatus;
  /** Matches records with this exact dotted path in `statePaths` (e.g. `awaitingApproval`). */
  state?: string;
  /** Matches records whose `tags[key] === value`. */
  tag?: { key: string; value: string };
  /** Only workflow ids starting with this prefix. */
  idPrefix?: string;
  /** Page size, 1–1000 (default 100). */
  limit?: number;
  /** Opaque cursor from a previous page's `nextCursor`. */
  cursor?: string;
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
  /** Read-model query (the embedded store may scan; it must stay correct). */
  list(query: WorkflowQuery): Promise<WorkflowPage>;
}

/** The append-only journal of applied events (the audit trail and the source of replay). */
export interface Journal {
  /** Appends `entry`; appending the same `(workflowId, seq)` again is a no-op (idempotent). */
  append(entry: JournalEntry): Promise<void>;
  /** Entries of one workflow in `seq` order. */
  read(workflowId: string): Promise<JournalEntry[]>;
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
  snapshots: SnapshotStore;
  journal: Journal;
  sentMail: SentMailLedger;
  close(): Promise<void>;
}
