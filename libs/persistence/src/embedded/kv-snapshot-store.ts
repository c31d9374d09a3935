import { listKvKeys } from '@troupe/bus';
import { BUCKETS } from '@troupe/contracts';
import { LRUCache } from 'lru-cache';
import type { JetStreamClient, KV, KvEntry, NatsConnection } from 'nats';
import { VersionConflictError } from '../errors';
import { addToCounts, checkContextPath, compareIds, compareRecords, decodePageCursor, encodePageCursor, idMatches, isAfterCursor, pageSizeOf, recordMatches, sortOf } from '../query';
import { isWrongLastSequence } from './jetstream-errors';
import { checkWorkflowId, decodeStoredJson, encodeJson, isWorkflowId, parseStoredWorkflowRecord } from '../records';
import type { ReadModelStore, WorkflowCounts, WorkflowFilter, WorkflowPage, WorkflowQuery, WorkflowRecord } from '../types';

/** Options of {@link KvSnapshotStore.open}. */
export interface KvSnapshotStoreOptions {
  /** A connection with JetStream enabled; the caller owns it (the store never closes it). */
  nats: NatsConnection;
  /** KV bucket name; default `BUCKETS.snapshots`. Created (history 1) when missing. */
  bucket?: string;
  /**
   * How many workflows' `{ version, revision }` to remember so a save needs no read; default 10 000,
   * 0 turns the cache off (every update reads first).
   */
  revisionCacheSize?: number;
  /**
   * What saves publish with (a KV write is a JetStream publish to `$KV.<bucket>.<key>` expecting the
   * key's last revision): default `nats.jetstream()`; `AckedPublisher` of @troupe/bus on a hot path.
   */
  publisher?: Pick<JetStreamClient, 'publish'>;
}

/** Where a stored record was last seen: its version and the KV revision that holds it. */
interface StoredAt {
  version: number;
  revision: number;
}

/** Records loaded concurrently while a list scans the bucket. */
const LIST_LOAD_CONCURRENCY = 32;

/**
 * {@link SnapshotStore} over a JetStream KV bucket (the embedded default): key = workflow id, value =
 * the record as UTF-8 JSON, one revision kept per key.
 *
 * Saves are compare-and-set on the KV revision (`kv.create` for version 0, `kv.update(key, value,
 * revision)` otherwise), where the revision is the one at which the stored record had the expected
 * version. A bounded cache of `workflowId → { version, revision }`, filled by load and save, spares the
 * common load → save path a second read; a stale entry costs one extra read, never a wrong write.
 * `list` scans every key; correct, not fast.
 */
export class KvSnapshotStore implements ReadModelStore {
  /** `workflowId → { version, revision }` last seen by this process; null when turned off. */
  private readonly storedAt: LRUCache<string, StoredAt> | null;

  private constructor(
    private readonly kv: KV,
    private readonly js: JetStreamClient,
    private readonly publisher: Pick<JetStreamClient, 'publish'>,
    private readonly bucket: string,
    revisionCacheSize: number,
  ) {
    this.storedAt = revisionCacheSize > 0 ? new LRUCache<string, StoredAt>({ max: revisionCacheSize }) : null;
  }

  /**
   * Opens the store, creating its bucket (history 1) when missing; an existing bucket is used as it is.
   *
   * @throws NatsError when JetStream is unavailable or refuses the bucket.
   */
  static async open(options: KvSnapshotStoreOptions): Promise<KvSnapshotStore> {
    const bucket = options.bucket ?? BUCKETS.snapshots;
    const js = options.nats.jetstream();
    const kv = await js.views.kv(bucket, { history: 1 });
    return new KvSnapshotStore(kv, js, options.publisher ?? js, bucket, options.revisionCacheSize ?? 10_000);
  }

  /**
   * The stored record, or null when none was saved (or `workflowId` is not a valid workflow id).
   *
   * @throws SchemaValidationError when the stored value is not a workflow record.
   */
  async load(workflowId: string): Promise<WorkflowRecord | null> {
    if (!isWorkflowId(workflowId)) return null;
    const entry = await this.kv.get(workflowId);
    return entry === null ? null : this.decode(entry);
  }

  /**
   * Writes `record` under `record.workflowId` if the stored version is still `expectedVersion`.
   *
   * @throws VersionConflictError when the stored version is not `expectedVersion` (0: a record exists).
   * @throws SchemaValidationError when `record.workflowId` is not a valid workflow id.
   */
  async save(record: WorkflowRecord, expectedVersion: number): Promise<void> {
    const { workflowId } = record;
    checkWorkflowId(workflowId);
    const value = encodeJson(record);

    if (expectedVersion === 0) {
      let revision: number;
      try {
        revision = await this.write(workflowId, value, 0);
      } catch (error) {
        if (!isWrongLastSequence(error)) throw error;
        // The key has a revision: a record, or the delete marker of a removed one, which kv.create
        // writes over (reading the marker's revision first).
        try {
          revision = await this.kv.create(workflowId, value);
        } catch (createError) {
          if (isWrongLastSequence(createError)) throw await this.conflict(workflowId, expectedVersion, createError);
          throw createError;
        }
      }
      this.remember(workflowId, { version: record.version, revision });
      return;
    }

    const cached = this.storedAt?.get(workflowId);
    if (cached !== undefined && cached.version === expectedVersion) {
      try {
        this.remember(workflowId, { version: record.version, revision: await this.write(workflowId, value, cached.revision) });
        return;
      } catch (error) {
        if (!isWrongLastSequence(error)) throw error;
        // Someone wrote since we cached the revision; it may have kept the version (an outbox
        // clear), so read what is stored rather than reporting a conflict from the cache alone.
        this.storedAt?.delete(workflowId);
      }
    }

    const entry = await this.kv.get(workflowId);
    const stored = entry === null ? null : this.decode(entry);
    if (entry === null || stored === null || stored.version !== expectedVersion) {
      throw new VersionConflictError(workflowId, expectedVersion, stored?.version ?? null);
    }
    try {
      this.remember(workflowId, { version: record.version, revision: await this.write(workflowId, value, entry.revision) });
    } catch (error) {
      if (isWrongLastSequence(error)) throw await this.conflict(workflowId, expectedVersion, error);
      throw error;
    }
  }

  /**
   * One page of records matching `query` in its sort order, by scanning every key of the bucket. By
   * workflow id, records are loaded in key order until the page is full; by `updatedAt`, every record
   * whose id passes the prefix is loaded and sorted.
   *
   * @throws SchemaValidationError when `query.cursor` is not a cursor this store returned under
   *   `query.sort`, or a stored value is not a workflow record.
   */
  async list(query: WorkflowQuery): Promise<WorkflowPage> {
    if (query.context !== undefined) checkContextPath(query.context.path);
    const pageSize = pageSizeOf(query);
    const sort = sortOf(query);
    const after = query.cursor === undefined ? null : decodePageCursor(query.cursor, sort);
    const keys: string[] = [];
    const byId = sort.field === 'workflowId';
    for (const key of await listKvKeys(this.js, this.bucket)) {
      if (idMatches(key, query, byId && after !== null ? after.workflowId : null, sort.order)) keys.push(key);
    }
    keys.sort(compareIds);
    if (sort.order === 'desc') keys.reverse();

    if (!byId) {
      const records = (await this.loadAll(keys)).filter((record) => recordMatches(record, query) && (after === null || isAfterCursor(record, after, sort)));
      records.sort((a, b) => compareRecords(a, b, sort));
      const items = records.slice(0, pageSize);
      return { items, nextCursor: records.length > pageSize ? encodePageCursor(items[items.length - 1], sort) : null };
    }

    const items: WorkflowRecord[] = [];
    // Load in small batches until one record more than a page matches: that one proves a next page.
    for (let start = 0; start < keys.length; start += LIST_LOAD_CONCURRENCY) {
      const batch = await Promise.all(keys.slice(start, start + LIST_LOAD_CONCURRENCY).map((key) => this.load(key)));
      for (const record of batch) {
        if (record === null || !recordMatches(record, query)) continue;
        if (items.length === pageSize) {
          return { items, nextCursor: encodePageCursor(items[items.length - 1], sort) };
        }
        items.push(record);
      }
    }
    return { items, nextCursor: null };
  }

  /**
   * Counts per status and state path of the records matching `filter`, by scanning every record.
   *
   * @throws SchemaValidationError when a stored value is not a workflow record.
   */
  async count(filter: WorkflowFilter): Promise<WorkflowCounts> {
    if (filter.context !== undefined) checkContextPath(filter.context.path);
    const keys: string[] = [];
    for (const key of await listKvKeys(this.js, this.bucket)) {
      if (idMatches(key, filter, null)) keys.push(key);
    }
    const counts: WorkflowCounts = { total: 0, byStatus: {}, byState: {} };
    for (const record of await this.loadAll(keys)) {
      if (recordMatches(record, filter)) addToCounts(counts, record);
    }
    return counts;
  }

  /** The records stored under `keys` (deleted ones left out), loaded a batch at a time, in key order. */
  private async loadAll(keys: string[]): Promise<WorkflowRecord[]> {
    const records: WorkflowRecord[] = [];
    for (let start = 0; start < keys.length; start += LIST_LOAD_CONCURRENCY) {
      const batch = await Promise.all(keys.slice(start, start + LIST_LOAD_CONCURRENCY).map((key) => this.load(key)));
      for (const record of batch) if (record !== null) records.push(record);
    }
    return records;
  }

  /**
   * Writes `value` under `workflowId` if the key's last revision is `revision` (0: the key has none),
   * as `kv.update` and `kv.create` do, and returns the new revision.
   *
   * @throws NatsError with `api_error.err_code` 10071 (wrong last sequence) when it is not.
   */
  private async write(workflowId: string, value: Uint8Array, revision: number): Promise<number> {
    const ack = await this.publisher.publish(`$KV.${this.bucket}.${workflowId}`, value, { expect: { lastSubjectSequence: revision } });
    return ack.seq;
  }

  /** Parses a KV entry as a record and remembers its revision; null for a delete marker. */
  private decode(entry: KvEntry): WorkflowRecord | null {
    if (entry.operation !== 'PUT') return null;
    const record = parseStoredWorkflowRecord(decodeStoredJson(entry.value, `stored workflow record ${entry.key}`), entry.key);
    this.remember(entry.key, { version: record.version, revision: entry.revision });
    return record;
  }

  /** Caches where a record is stored, unless a later revision is already known. */
  private remember(workflowId: string, seen: StoredAt): void {
    const known = this.storedAt?.get(workflowId);
    if (known === undefined || known.revision < seen.revision) this.storedAt?.set(workflowId, seen);
  }

  /** A {@link VersionConflictError} naming the version stored now (best effort), the JetStream error as cause. */
  private async conflict(workflowId: string, expectedVersion: number, cause: unknown): Promise<VersionConflictError> {
    this.storedAt?.delete(workflowId);
    let actualVersion: number | null = null;
    try {
      actualVersion = (await this.load(workflowId))?.version ?? null;
    } catch {
      // The conflict is the answer; the stored version only improves its message.
    }
    return new VersionConflictError(workflowId, expectedVersion, actualVersion, { cause });
  }
}
