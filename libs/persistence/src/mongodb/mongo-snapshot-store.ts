import type { Collection, Document, Filter, MongoClient } from 'mongodb';
import { VersionConflictError } from '../errors';
import { bump, checkContextPath, decodePageCursor, encodePageCursor, pageSizeOf, sortOf } from '../query';
import { checkWorkflowId, isWorkflowId, parseStoredWorkflowRecord } from '../records';
import type { ReadModelStore, WorkflowCounts, WorkflowFilter, WorkflowPage, WorkflowQuery, WorkflowRecord } from '../types';
import { isDuplicateKey, MAJORITY } from './mongo-errors';

/** Options of the MongoDB adapters: a connected (or connectable) client and the database to use. */
export interface MongoStoreOptions {
  /** The caller's client; the adapters never close it. */
  client: MongoClient;
  dbName: string;
  /**
   * Context paths the snapshot store indexes (`snapshot.context.<path>`, each with `_id`), for the
   * `context` filter of the read model on large fleets; default none (the filter still works, scanning).
   */
  indexedContextPaths?: readonly string[];
}

/** Collection of workflow snapshot documents. */
export const WORKFLOWS_COLLECTION = 'workflows';

/** A workflow record as stored: the record itself with `_id` = `workflowId`. */
type WorkflowDocument = Document & { _id: string };

/** Tag keys safe as a dotted field path (`tags.<key>`); others are matched with `$getField`. */
const PLAIN_TAG_KEY = /^[A-Za-z0-9_-]+$/;

/**
 * {@link SnapshotStore} over the MongoDB collection `workflows`, one document per workflow with
 * `_id` = workflow id; the document doubles as the read model (indexes from {@link ensureIndexes}).
 * Saves are conditioned on the stored `version` and wait for a majority.
 */
export class MongoSnapshotStore implements ReadModelStore {
  private readonly workflows: Collection<WorkflowDocument>;

  private readonly indexedContextPaths: readonly string[];

  /** @throws SchemaValidationError when an indexed context path is not dotted `[A-Za-z_][A-Za-z0-9_]*` segments. */
  constructor(options: MongoStoreOptions) {
    this.workflows = options.client.db(options.dbName).collection<WorkflowDocument>(WORKFLOWS_COLLECTION, MAJORITY);
    this.indexedContextPaths = options.indexedContextPaths ?? [];
    for (const path of this.indexedContextPaths) checkContextPath(path);
  }

  /**
   * Creates the read model's indexes (idempotent: `createIndexes` with the same keys and names is a
   * no-op, so every process calls it at start-up): `workflowType` with `machineVersion` (migrations),
   * `status`, `statePaths` (each with `_id` for paging by id), `updatedAt` with `_id` (sorting and
   * paging by time), a wildcard index on `tags`, `timers.dueAt` (records waiting on a timer), and
   * `snapshot.context.<path>` for each of `indexedContextPaths`.
   */
  async ensureIndexes(): Promise<void> {
    await this.workflows.createIndexes([
      { key: { workflowType: 1, _id: 1 } },
      { key: { workflowType: 1, machineVersion: 1, _id: 1 } },
      { key: { status: 1, _id: 1 } },
      { key: { statePaths: 1, _id: 1 } },
      { key: { updatedAt: -1, _id: -1 } },
      { key: { 'tags.$**': 1 } },
      { key: { 'timers.dueAt': 1 }, sparse: true },
      ...this.indexedContextPaths.map((path) => ({ key: { [`snapshot.context.${path}`]: 1, _id: 1 } })),
    ]);
  }

  /**
   * The stored record, or null when none was saved (or `workflowId` is not a valid workflow id).
   *
   * @throws SchemaValidationError when the stored document is not a workflow record.
   */
  async load(workflowId: string): Promise<WorkflowRecord | null> {
    if (!isWorkflowId(workflowId)) return null;
    const document = await this.workflows.findOne({ _id: workflowId });
    return document === null ? null : toRecord(document);
  }

  /**
   * Inserts (`expectedVersion` 0) or replaces the document whose `version` is `expectedVersion`.
   *
   * @throws VersionConflictError when the stored version is not `expectedVersion` (0: a record exists).
   * @throws SchemaValidationError when `record.workflowId` is not a valid workflow id.
   */
  async save(record: WorkflowRecord, expectedVersion: number): Promise<void> {
    const workflowId = record.workflowId;
    checkWorkflowId(workflowId);
    if (expectedVersion === 0) {
      try {
        await this.workflows.insertOne({ ...record, _id: workflowId });
        return;
      } catch (error) {
        if (isDuplicateKey(error)) throw await this.conflict(workflowId, expectedVersion, error);
        throw error;
      }
    }
    const result = await this.workflows.replaceOne({ _id: workflowId, version: expectedVersion }, { ...record });
    if (result.matchedCount === 0) throw await this.conflict(workflowId, expectedVersion, undefined);
  }

  /**
   * One page of records matching `query`, sorted by `_id` (= workflow id) or by `updatedAt` then `_id`,
   * resuming after the cursor; one more document than the page is read to know whether a next exists.
   *
   * @throws SchemaValidationError when `query.cursor` is not a cursor this store returned under
   *   `query.sort`, or a stored document is not a workflow record.
   */
  async list(query: WorkflowQuery): Promise<WorkflowPage> {
    const pageSize = pageSizeOf(query);
    const sort = sortOf(query);
    const direction = sort.order === 'asc' ? 1 : -1;
    const documents = await this.workflows
      .find(filterOf(query))
      .sort(sort.field === 'updatedAt' ? { updatedAt: direction, _id: direction } : { _id: direction })
      .limit(pageSize + 1)
      .toArray();
    const items = documents.slice(0, pageSize).map(toRecord);
    const nextCursor = documents.length > pageSize ? encodePageCursor(items[items.length - 1], sort) : null;
    return { items, nextCursor };
  }

  /** Counts per status and state path of the records matching `filter`, in one aggregation. */
  async count(filter: WorkflowFilter): Promise<WorkflowCounts> {
    const [result] = await this.workflows
      .aggregate<{ total: Array<{ n: number }>; byStatus: Array<{ _id: string; n: number }>; byState: Array<{ _id: string; n: number }> }>([
        { $match: filterOf(filter) },
        {
          $facet: {
            total: [{ $count: 'n' }],
            byStatus: [{ $group: { _id: '$status', n: { $sum: 1 } } }],
            // A record counts once per distinct path, as the embedded store counts it.
            byState: [{ $project: { paths: { $setUnion: ['$statePaths', []] } } }, { $unwind: '$paths' }, { $group: { _id: '$paths', n: { $sum: 1 } } }],
          },
        },
      ])
      .toArray();
    const counts: WorkflowCounts = { total: result?.total[0]?.n ?? 0, byStatus: {}, byState: {} };
    for (const { _id, n } of result?.byStatus ?? []) bump(counts.byStatus, _id, n);
    for (const { _id, n } of result?.byState ?? []) bump(counts.byState, _id, n);
    return counts;
  }

  /** A {@link VersionConflictError} naming the version stored now (best effort). */
  private async conflict(workflowId: string, expectedVersion: number, cause: unknown): Promise<VersionConflictError> {
    let actualVersion: number | null = null;
    try {
      const stored = await this.workflows.findOne({ _id: workflowId }, { projection: { version: 1 } });
      actualVersion = typeof stored?.version === 'number' ? stored.version : null;
    } catch {
      // The conflict is the answer; the stored version only improves its message.
    }
    return new VersionConflictError(workflowId, expectedVersion, actualVersion, { cause });
  }
}

/** The MongoDB filter of a query, cursor included (a filter without sort or cursor: no cursor). */
function filterOf(query: WorkflowQuery): Filter<WorkflowDocument> {
  const filter: Document = {};
  const and: Document[] = [];
  const idConditions: Document = {};
  if (query.cursor !== undefined) {
    const sort = sortOf(query);
    const after = sort.order === 'asc' ? '$gt' : '$lt';
    const position = decodePageCursor(query.cursor, sort);
    if (sort.field === 'workflowId') {
      idConditions[after] = position.workflowId;
    } else {
      // After (updatedAt, _id) in the sort's order: a later time, or the same time and a later id.
      and.push({ $or: [{ updatedAt: { [after]: position.value } }, { updatedAt: position.value, _id: { [after]: position.workflowId } }] });
    }
  }
  if (query.idPrefix !== undefined) idConditions.$regex = new RegExp(`^${escapeRegExp(query.idPrefix)}`);
  if (Object.keys(idConditions).length > 0) filter._id = idConditions;
  if (query.workflowType !== undefined) filter.workflowType = query.workflowType;
  if (query.machineVersion !== undefined) filter.machineVersion = query.machineVersion;
  if (query.context !== undefined) {
    checkContextPath(query.context.path);
    filter[`snapshot.context.${query.context.path}`] = query.context.value;
  }
  const updated: Document = {};
  if (query.updatedBefore !== undefined) updated.$lt = query.updatedBefore;
  if (query.updatedAfter !== undefined) updated.$gt = query.updatedAfter;
  if (Object.keys(updated).length > 0) filter.updatedAt = updated;
  if (and.length > 0) filter.$and = and;
  if (query.status !== undefined) filter.status = query.status;
  // On an array field, equality matches documents whose array holds the value.
  if (query.state !== undefined) filter.statePaths = query.state;
  if (query.tag !== undefined) {
    if (PLAIN_TAG_KEY.test(query.tag.key)) {
      filter[`tags.${query.tag.key}`] = query.tag.value;
    } else {
      // A key with '.' or '$' cannot be a field path; $getField reads it literally.
      filter.$expr = { $eq: [{ $getField: { field: { $literal: query.tag.key }, input: '$tags' } }, query.tag.value] };
    }
  }
  return filter as Filter<WorkflowDocument>;
}

/** The record of a stored document (`_id` dropped), checked. */
function toRecord(document: WorkflowDocument): WorkflowRecord {
  const { _id, ...record } = document;
  return parseStoredWorkflowRecord(record, _id);
}

/** `text` with every regular-expression metacharacter escaped. */
function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
