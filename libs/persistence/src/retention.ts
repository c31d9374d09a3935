import type { WorkflowStatus } from '@troupe/contracts';
import { PersistenceError, VersionConflictError } from './errors';
import type { JournalRetention, ReadModelStore, RetainableJournal, WorkflowRecord } from './types';

/**
 * Which journals retention touches and what it does to them: the journals of workflows that finished
 * (`statuses`, default done, error and stopped) and were last updated more than `olderThanMs` ago.
 */
export interface JournalRetentionPolicy {
  /** Age since the record's `updatedAt`, ms (e.g. 30 days = 2,592,000,000). */
  olderThanMs: number;
  /** `archive`: copy to the archive, check the copy, then remove; `delete`: remove (compaction). */
  mode: 'archive' | 'delete';
  /** Finished statuses whose journals may go (default `['done', 'error', 'stopped']`; never `active`). */
  statuses?: Array<Exclude<WorkflowStatus, 'active'>>;
}

/** Options of {@link applyJournalRetention}. */
export interface ApplyJournalRetentionOptions {
  store: ReadModelStore;
  journal: RetainableJournal;
  /** Required with mode `archive`. */
  archive?: RetainableJournal;
  /** Named in each record's {@link JournalRetention}: `TROUPE_JOURNAL_ARCHIVE` or `journal_archive`. */
  archiveName?: string;
  policy: JournalRetentionPolicy;
  now: () => Date;
  /** Workflows to examine in this call, 1–10,000 (default 1,000); resume with the report's `nextCursor`. */
  limit?: number;
  cursor?: string;
  /** Report what would be archived or deleted, and change nothing. */
  dryRun?: boolean;
}

/** What one {@link applyJournalRetention} call did: every workflow whose journal it touched, by id. */
export interface JournalRetentionReport {
  policy: string;
  dryRun: boolean;
  /** `updatedAt` before this instant (ISO-8601) qualified. */
  cutoff: string;
  archived: Array<{ workflowId: string; entries: number }>;
  deleted: Array<{ workflowId: string; entries: number }>;
  /** Qualifying workflows left as they were, and why (already retained, changed meanwhile, copy incomplete). */
  skipped: Array<{ workflowId: string; reason: string }>;
  nextCursor: string | null;
}

const PAGE_SIZE = 100;

/** The name a policy is recorded under, e.g. `completed-older-than:2592000000ms:archive`. */
export function retentionPolicyName(policy: JournalRetentionPolicy): string {
  return `completed-older-than:${policy.olderThanMs}ms:${policy.mode}`;
}

/**
 * Archives or deletes the journals of finished workflows older than the policy says, never silently:
 * each touched record gets a {@link JournalRetention} (written with the version precondition, its
 * version unchanged, before any entry is removed) and the report lists every workflow. In `archive`
 * mode the entries are appended to the archive journal (idempotent) and read back before they are
 * removed from the journal; a short copy is reported and nothing is removed. The record's pending
 * journal entries are included and then cleared (the record keeps the last entry's seq and digest).
 * Resumable: a crash after
 * the record was marked leaves the entries in place, and the next run finishes the removal.
 *
 * @throws PersistenceError `ARCHIVE_REQUIRED` when mode is `archive` without an archive; store errors.
 */
export async function applyJournalRetention(options: ApplyJournalRetentionOptions): Promise<JournalRetentionReport> {
  const { policy } = options;
  if (policy.mode === 'archive' && options.archive === undefined) {
    throw new PersistenceError('ARCHIVE_REQUIRED', 'journal retention in archive mode needs an archive journal', { retryable: false });
  }
  if (!(policy.olderThanMs >= 0)) throw new PersistenceError('BAD_RETENTION_POLICY', `olderThanMs must be ≥ 0, is ${policy.olderThanMs}`, { retryable: false });
  const statuses = policy.statuses ?? ['done', 'error', 'stopped'];
  const cutoff = new Date(options.now().getTime() - policy.olderThanMs).toISOString();
  const limit = Math.min(10_000, Math.max(1, Math.trunc(options.limit ?? 1_000)));
  const report: JournalRetentionReport = {
    policy: retentionPolicyName(policy),
    dryRun: options.dryRun === true,
    cutoff,
    archived: [],
    deleted: [],
    skipped: [],
    nextCursor: null,
  };
  let cursor = options.cursor;
  let examined = 0;
  for (;;) {
    const page = await options.store.list({ updatedBefore: cutoff, limit: Math.min(PAGE_SIZE, limit - examined), cursor });
    for (const record of page.items) {
      examined += 1;
      if (record.status === 'active' || !(statuses as string[]).includes(record.status)) continue;
      await retainOne(record, options, report);
    }
    if (page.nextCursor === null) return report;
    cursor = page.nextCursor;
    if (examined >= limit) {
      report.nextCursor = page.nextCursor;
      return report;
    }
  }
}

async function retainOne(record: WorkflowRecord, options: ApplyJournalRetentionOptions, report: JournalRetentionReport): Promise<void> {
  const { policy, journal } = options;
  // The record's pending entries may never have reached the journal (a crash before the append).
  const appended = await journal.read(record.workflowId);
  const seen = new Set(appended.map((entry) => entry.seq));
  const entries = [...appended, ...(record.journalRetention === undefined ? record.pendingJournal : []).filter((entry) => !seen.has(entry.seq))].sort(
    (a, b) => a.seq - b.seq,
  );
  if (entries.length === 0) {
    if (record.journalRetention === undefined) report.skipped.push({ workflowId: record.workflowId, reason: 'no journal entries' });
    return;
  }
  const done = policy.mode === 'archive' ? report.archived : report.deleted;
  if (options.dryRun === true) {
    done.push({ workflowId: record.workflowId, entries: entries.length });
    return;
  }
  if (options.archive !== undefined && policy.mode === 'archive') {
    for (const entry of entries) await options.archive.append(entry);
    const copied = new Set((await options.archive.read(record.workflowId)).map((entry) => entry.seq));
    const missing = entries.filter((entry) => !copied.has(entry.seq));
    if (missing.length > 0) {
      report.skipped.push({ workflowId: record.workflowId, reason: `archive holds ${entries.length - missing.length} of ${entries.length} entries; nothing removed` });
      return;
    }
  }
  const last = entries[entries.length - 1];
  const retention: JournalRetention = {
    mode: policy.mode,
    at: options.now().toISOString(),
    entries: entries.length,
    lastSeq: last.seq,
    lastSnapshotDigest: last.snapshotDigest ?? null,
    archive: policy.mode === 'archive' ? (options.archiveName ?? 'archive') : null,
    policy: retentionPolicyName(policy),
  };
  if (record.journalRetention === undefined) {
    try {
      // Same version: only the retention note changes, as an outbox clear would.
      await options.store.save({ ...record, pendingJournal: [], journalRetention: retention }, record.version);
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      report.skipped.push({ workflowId: record.workflowId, reason: `changed meanwhile: ${error.message}` });
      return;
    }
  }
  await journal.remove(record.workflowId);
  done.push({ workflowId: record.workflowId, entries: entries.length });
}
