import { SchemaValidationError } from '@troupe/contracts';
import type { WorkflowQuery, WorkflowRecord } from './types';

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

/** True when `workflowId` passes the id-only parts of `query` (`idPrefix`, and after `afterWorkflowId`). */
export function idMatches(workflowId: string, query: WorkflowQuery, afterWorkflowId: string | null): boolean {
  if (query.idPrefix !== undefined && !workflowId.startsWith(query.idPrefix)) return false;
  return afterWorkflowId === null || compareIds(workflowId, afterWorkflowId) > 0;
}

/** True when `record` passes every filter of `query` (cursor and limit aside). */
export function recordMatches(record: WorkflowRecord, query: WorkflowQuery): boolean {
  if (query.idPrefix !== undefined && !record.workflowId.startsWith(query.idPrefix)) return false;
  if (query.workflowType !== undefined && record.workflowType !== query.workflowType) return false;
  if (query.status !== undefined && record.status !== query.status) return false;
  if (query.state !== undefined && !record.statePaths.includes(query.state)) return false;
  if (query.tag !== undefined && !(Object.hasOwn(record.tags, query.tag.key) && record.tags[query.tag.key] === query.tag.value)) {
    return false;
  }
  return true;
}

/**
 * Orders workflow ids as the read model does: by UTF-16 code units, which for the ASCII ids
 * {@link WorkflowId} allows is the same as MongoDB's binary order of `_id` strings.
 */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
