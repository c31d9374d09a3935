import { SchemaValidationError } from '@troupe/contracts';
import { isWorkflowId } from './records';
import type { WorkflowCounts, WorkflowFilter, WorkflowQuery, WorkflowRecord, WorkflowSort } from './types';

/** Page size of {@link WorkflowQuery} when `limit` is not given. */
export const DEFAULT_PAGE_SIZE = 100;

/** Largest page size of {@link WorkflowQuery}; larger limits are lowered to it. */
export const MAX_PAGE_SIZE = 1_000;

/**
 * The page size of a query: `limit` truncated to an integer and clamped to 1–{@link MAX_PAGE_SIZE},
 * {@link DEFAULT_PAGE_SIZE} when absent or not a finite number.
 */
export function pageSizeOf(query: WorkflowQuery): number {
  const limit = query.limit;
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_PAGE_SIZE;
  return Math.min(MAX_PAGE_SIZE, Math.max(1, Math.trunc(limit)));
}

/** The opaque cursor after `workflowId`: its UTF-8 bytes as base64url (RFC 4648 §5, no padding). */
export function encodeCursor(workflowId: string): string {
  return Buffer.from(workflowId, 'utf8').toString('base64url');
}

/**
 * The workflow id a cursor from {@link encodeCursor} points after.
 *
 * @throws SchemaValidationError when `cursor` is not base64url of a non-empty string.
 */
export function decodeCursor(cursor: string): string {
  const workflowId = Buffer.from(cursor, 'base64url').toString('utf8');
  // Node decodes base64url leniently; re-encoding rejects anything that was not made by encodeCursor.
  if (workflowId.length === 0 || encodeCursor(workflowId) !== cursor) {
    throw new SchemaValidationError('cursor', ['(root): not a cursor returned by a previous page']);
  }
  return workflowId;
}

/** The sort of `query`: `{ field: 'workflowId', order: 'asc' }` unless given. */
export function sortOf(query: WorkflowQuery): WorkflowSort {
  return query.sort ?? { field: 'workflowId', order: 'asc' };
}

/** Where a page ends: the sort key of its last record (`updatedAt`, or null when sorting by id) and its id. */
export interface CursorPosition {
  value: string | null;
  workflowId: string;
}

/**
 * The cursor after `record` under `sort`. By id ascending (the default) it is {@link encodeCursor} of
 * the id, as before sorting existed; otherwise base64url of `{"s":"<field>:<order>","v":<key>,"id":<id>}`.
 */
export function encodePageCursor(record: WorkflowRecord, sort: WorkflowSort): string {
  if (sort.field === 'workflowId' && sort.order === 'asc') return encodeCursor(record.workflowId);
  const value = sort.field === 'updatedAt' ? record.updatedAt : null;
  return Buffer.from(JSON.stringify({ s: `${sort.field}:${sort.order}`, v: value, id: record.workflowId }), 'utf8').toString('base64url');
}

/**
 * The position a cursor from {@link encodePageCursor} points after.
 *
 * @throws SchemaValidationError when `cursor` was not made by {@link encodePageCursor} under `sort`.
 */
export function decodePageCursor(cursor: string, sort: WorkflowSort): CursorPosition {
  const invalid = new SchemaValidationError('cursor', [`(root): not a cursor returned by a previous page sorted by ${sort.field} ${sort.order}`]);
  if (sort.field === 'workflowId' && sort.order === 'asc') {
    // A cursor of another sort decodes to JSON text, which is no workflow id.
    const workflowId = decodeCursor(cursor);
    if (!isWorkflowId(workflowId)) throw invalid;
    return { value: null, workflowId };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  const { s, v, id } = (parsed ?? {}) as { s?: unknown; v?: unknown; id?: unknown };
  if (s !== `${sort.field}:${sort.order}` || typeof id !== 'string' || id.length === 0) throw invalid;
  if (sort.field === 'updatedAt' ? typeof v !== 'string' : v !== null) throw invalid;
  return { value: v as string | null, workflowId: id };
}

/** Orders two records under `sort` (the sort key, then the id; both in the sort's order). */
export function compareRecords(a: Pick<WorkflowRecord, 'workflowId' | 'updatedAt'>, b: Pick<WorkflowRecord, 'workflowId' | 'updatedAt'>, sort: WorkflowSort): number {
  const byKey = sort.field === 'updatedAt' ? compareIds(a.updatedAt, b.updatedAt) : 0;
  const ascending = byKey !== 0 ? byKey : compareIds(a.workflowId, b.workflowId);
  return sort.order === 'asc' ? ascending : -ascending;
}

/** True when `record` comes strictly after the cursor `position` under `sort`. */
export function isAfterCursor(record: Pick<WorkflowRecord, 'workflowId' | 'updatedAt'>, position: CursorPosition, sort: WorkflowSort): boolean {
  return compareRecords(record, { workflowId: position.workflowId, updatedAt: position.value ?? '' }, sort) > 0;
}

/**
 * True when `workflowId` passes the id-only parts of `query` (`idPrefix`, and after `afterWorkflowId`
 * in the order `order`, ascending by default).
 */
export function idMatches(workflowId: string, query: WorkflowFilter, afterWorkflowId: string | null, order: 'asc' | 'desc' = 'asc'): boolean {
  if (query.idPrefix !== undefined && !workflowId.startsWith(query.idPrefix)) return false;
  if (afterWorkflowId === null) return true;
  const compared = compareIds(workflowId, afterWorkflowId);
  return order === 'asc' ? compared > 0 : compared < 0;
}

/** True when `record` passes every filter of `query` (cursor and limit aside). */
export function recordMatches(record: WorkflowRecord, query: WorkflowFilter): boolean {
  if (query.idPrefix !== undefined && !record.workflowId.startsWith(query.idPrefix)) return false;
  if (query.workflowType !== undefined && record.workflowType !== query.workflowType) return false;
  if (query.machineVersion !== undefined && record.machineVersion !== query.machineVersion) return false;
  if (query.status !== undefined && record.status !== query.status) return false;
  if (query.state !== undefined && !record.statePaths.includes(query.state)) return false;
  if (query.tag !== undefined && !(Object.hasOwn(record.tags, query.tag.key) && record.tags[query.tag.key] === query.tag.value)) {
    return false;
  }
  if (query.context !== undefined) {
    checkContextPath(query.context.path);
    if (!valueAtPathMatches((record.snapshot as { context?: unknown } | null)?.context, query.context.path.split('.'), query.context.value)) return false;
  }
  if (query.updatedBefore !== undefined && !(record.updatedAt < query.updatedBefore)) return false;
  if (query.updatedAfter !== undefined && !(record.updatedAt > query.updatedAfter)) return false;
  return true;
}

/** Adds `record` to `counts` (one under its status, one under each of its state paths). */
export function addToCounts(counts: WorkflowCounts, record: Pick<WorkflowRecord, 'status' | 'statePaths'>): void {
  counts.total += 1;
  bump(counts.byStatus, record.status, 1);
  for (const path of new Set(record.statePaths)) bump(counts.byState, path, 1);
}

/** Adds `by` to `counts[key]` as an own property (a state named `__proto__` stays a plain key). */
export function bump(counts: Record<string, number>, key: string, by: number): void {
  const now = Object.hasOwn(counts, key) ? counts[key] : 0;
  Object.defineProperty(counts, key, { value: now + by, enumerable: true, writable: true, configurable: true });
}

/**
 * Orders workflow ids as the read model does: by UTF-16 code units, which for the ASCII ids
 * {@link WorkflowId} allows is the same as MongoDB's binary order of `_id` strings.
 */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A context path a query may name: dotted segments, each a letter or `_` then `[A-Za-z0-9_]` (no array indexes). */
export const CONTEXT_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/**
 * @throws SchemaValidationError when `path` is not such dotted segments.
 */
export function checkContextPath(path: string): void {
  if (!CONTEXT_PATH.test(path)) throw new SchemaValidationError('context path', [`(root): ${JSON.stringify(path)} is not dotted [A-Za-z_][A-Za-z0-9_]* segments`]);
}

/**
 * True when `value` is at `segments` under `node`, as a MongoDB equality on a dotted path matches: an
 * array met on the way (or at the end) matches when any element does.
 */
function valueAtPathMatches(node: unknown, segments: string[], value: string | number | boolean): boolean {
  if (Array.isArray(node)) return node.some((element) => valueAtPathMatches(element, segments, value));
  if (segments.length === 0) return node === value;
  if (node === null || typeof node !== 'object' || !Object.hasOwn(node, segments[0])) return false;
  return valueAtPathMatches((node as Record<string, unknown>)[segments[0]], segments.slice(1), value);
}
