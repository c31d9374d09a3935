import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyJournalRetention, type JournalRetentionPolicy } from '../retention';
import type { ReadModelStore, RetainableJournal, WorkflowRecord } from '../types';
import { sampleJournalEntry, sampleWorkflowRecord, uniqueWorkflowId } from './fixtures';

/** What a retention factory gives the contract suite: an empty store, a journal and an archive of one adapter. */
export interface RetentionUnderTest {
  store: ReadModelStore;
  journal: RetainableJournal;
  archive: RetainableJournal;
  archiveName: string;
  cleanup(): Promise<void>;
}

const NOW = new Date('2025-03-01T00:00:00.000Z');
const DAY_MS = 86_400_000;

/**
 * Registers the behaviour of {@link applyJournalRetention} over one adapter's stores: only finished
 * workflows older than the policy lose their journals, archived entries can be read back from the
 * archive, every touched record says what happened, and a second run changes nothing.
 */
export function describeJournalRetentionContract(name: string, factory: () => Promise<RetentionUnderTest>): void {
  describe(`Journal retention contract: ${name}`, () => {
    let ports: RetentionUnderTest;

    beforeEach(async () => {
      ports = await factory();
    });

    afterEach(async () => {
      await ports.cleanup();
    });

    /** A workflow with `entries` journal entries, the last one pending in the record. */
    async function workflow(overrides: Partial<WorkflowRecord>, entries = 3): Promise<WorkflowRecord> {
      const workflowId = uniqueWorkflowId(overrides.status ?? 'wf');
      const journal = Array.from({ length: entries }, (_, n) => sampleJournalEntry(workflowId, n + 1, { snapshotDigest: `sha256:${n + 1}` }));
      const record = sampleWorkflowRecord({ workflowId, version: entries, pendingJournal: journal.slice(-1), ...overrides });
      await ports.store.save(record, 0);
      for (const entry of journal.slice(0, -1)) await ports.journal.append(entry);
      return record;
    }

    const archivePolicy: JournalRetentionPolicy = { olderThanMs: 30 * DAY_MS, mode: 'archive' };

    it('archives the journals of finished workflows older than the policy, and only those', async () => {
      const oldDone = await workflow({ status: 'done', updatedAt: '2025-01-01T00:00:00.000Z' });
      const oldError = await workflow({ status: 'error', updatedAt: '2025-01-02T00:00:00.000Z' });
      const oldActive = await workflow({ status: 'active', updatedAt: '2025-01-01T00:00:00.000Z' });
      const recentDone = await workflow({ status: 'done', updatedAt: '2025-02-20T00:00:00.000Z' });
      const report = await applyJournalRetention({ ...ports, policy: archivePolicy, now: () => NOW });
      expect(report).toMatchObject({ policy: 'completed-older-than:2592000000ms:archive', cutoff: '2025-01-30T00:00:00.000Z', deleted: [], skipped: [] });
      expect(report.archived.map((a) => a.workflowId).sort()).toEqual([oldDone.workflowId, oldError.workflowId].sort());
      expect(report.archived.every((a) => a.entries === 3)).toBe(true);

      for (const retained of [oldDone, oldError]) {
        expect(await ports.journal.read(retained.workflowId)).toEqual([]);
        expect((await ports.archive.read(retained.workflowId)).map((e) => e.seq)).toEqual([1, 2, 3]);
        const record = await ports.store.load(retained.workflowId);
        expect(record).toMatchObject({
          version: 3,
          pendingJournal: [],
          journalRetention: { mode: 'archive', entries: 3, lastSeq: 3, lastSnapshotDigest: 'sha256:3', archive: ports.archiveName, at: NOW.toISOString() },
        });
      }
      for (const kept of [oldActive, recentDone]) {
        expect(await ports.journal.read(kept.workflowId)).toHaveLength(2);
        expect((await ports.store.load(kept.workflowId))?.journalRetention).toBeUndefined();
      }
      expect(await applyJournalRetention({ ...ports, policy: archivePolicy, now: () => NOW })).toMatchObject({ archived: [], deleted: [], skipped: [] });
    });

    it('deletes (compacts) without archiving, and records that it did', async () => {
      const oldDone = await workflow({ status: 'done', updatedAt: '2025-01-01T00:00:00.000Z' });
      const report = await applyJournalRetention({ ...ports, policy: { olderThanMs: DAY_MS, mode: 'delete' }, now: () => NOW });
      expect(report.deleted).toEqual([{ workflowId: oldDone.workflowId, entries: 3 }]);
      expect(await ports.journal.read(oldDone.workflowId)).toEqual([]);
      expect(await ports.archive.read(oldDone.workflowId)).toEqual([]);
      expect((await ports.store.load(oldDone.workflowId))?.journalRetention).toMatchObject({ mode: 'delete', archive: null, entries: 3 });
    });

    it('changes nothing in a dry run but reports what it would do', async () => {
      const oldDone = await workflow({ status: 'done', updatedAt: '2025-01-01T00:00:00.000Z' });
      const report = await applyJournalRetention({ ...ports, policy: archivePolicy, now: () => NOW, dryRun: true });
      expect(report).toMatchObject({ dryRun: true, archived: [{ workflowId: oldDone.workflowId, entries: 3 }] });
      expect(await ports.journal.read(oldDone.workflowId)).toHaveLength(2);
      expect(await ports.archive.read(oldDone.workflowId)).toEqual([]);
      expect(await ports.store.load(oldDone.workflowId)).toEqual(oldDone);
    });

    it('pages through many workflows with a cursor and a limit, touching each once', async () => {
      const records = [];
      for (let n = 0; n < 7; n += 1) records.push(await workflow({ status: 'done', updatedAt: '2025-01-01T00:00:00.000Z' }, 1));
      const touched: string[] = [];
      let cursor: string | undefined;
      for (let calls = 0; calls < 10; calls += 1) {
        const report = await applyJournalRetention({ ...ports, policy: archivePolicy, now: () => NOW, limit: 3, cursor });
        touched.push(...report.archived.map((a) => a.workflowId));
        if (report.nextCursor === null) break;
        cursor = report.nextCursor;
      }
      expect(touched.sort()).toEqual(records.map((r) => r.workflowId).sort());
    });
  });
}
