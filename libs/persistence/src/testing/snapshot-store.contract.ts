import { SchemaValidationError } from '@troupe/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VersionConflictError } from '../errors';
import { addToCounts, compareRecords, recordMatches, sortOf } from '../query';
import type { ReadModelStore, WorkflowCounts, WorkflowFilter, WorkflowQuery, WorkflowRecord, WorkflowSort } from '../types';
import { sampleWorkflowRecord, uniqueWorkflowId } from './fixtures';

/** What a snapshot-store factory gives the contract suite: a store and how to dispose of it. */
export interface SnapshotStoreUnderTest {
  /** An empty store, not shared with any other call of the factory. */
  store: ReadModelStore;
  /** Closes what the factory opened and removes what the test wrote. */
  cleanup(): Promise<void>;
}

/**
 * Registers (with vitest `describe`/`it`) the behaviour every {@link SnapshotStore} adapter must show,
 * in the manner of langgraphjs's `checkpoint-validation`: an adapter's test file is one call.
 * `factory` runs before every test and must return an empty, isolated store.
 *
 * Covers load, create, compare-and-set updates and conflicts (also under concurrency), outbox clears
 * at the same version, every {@link WorkflowQuery} filter, and cursor paging.
 */
export function describeSnapshotStoreContract(name: string, factory: () => Promise<SnapshotStoreUnderTest>): void {
  describe(`SnapshotStore contract: ${name}`, () => {
    let store: ReadModelStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await factory());
    });

    afterEach(async () => {
      await cleanup();
    });

    /** Saves `record` as version 1 and each next version up to `record.version`. */
    async function saveAt(record: WorkflowRecord): Promise<void> {
      for (let version = 1; version <= record.version; version += 1) {
        await store.save({ ...record, version }, version - 1);
      }
    }

    async function expectConflict(promise: Promise<unknown>, expected: { expectedVersion: number; actualVersion: number | null }) {
      const error = await promise.then(
        () => null,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(VersionConflictError);
      expect(error).toMatchObject({ code: 'VERSION_CONFLICT', retryable: true, ...expected });
    }

    describe('load and save', () => {
      it('returns null for a workflow that was never saved', async () => {
        expect(await store.load(uniqueWorkflowId())).toBeNull();
      });

      it('returns null for an id that is not a valid workflow id', async () => {
        expect(await store.load('not a valid id: spaces and colons')).toBeNull();
      });

      it('creates a record with expected version 0 and loads it back unchanged', async () => {
        const record = sampleWorkflowRecord({
          stateValue: { review: 'waiting' },
          statePaths: ['review', 'review.waiting'],
          tags: { label: 'ham', 'odd.key': 'x' },
          outbox: [
            {
              id: 'wf-1:1:0',
              subject: 'troupe.agent.classifier.task',
              envelope: {
                id: 'wf-1:1:0',
                type: 'agent.task_requested',
                workflowId: 'wf-1',
                correlationId: 'c',
                causationId: null,
                occurredAt: '2025-01-01T00:00:00.000Z',
                source: 'orchestrator',
                payload: { nested: [1, 2, { deep: true }] },
              },
            },
          ],
          traceId: '0af7651916cd43dd8448eb211c80319c',
        });
        await store.save(record, 0);
        expect(await store.load(record.workflowId)).toEqual(record);
      });

      it('refuses a second create of the same workflow with VersionConflictError and keeps the first', async () => {
        const first = sampleWorkflowRecord();
        await store.save(first, 0);
        await expectConflict(store.save({ ...first, workflowType: 'other' }, 0), { expectedVersion: 0, actualVersion: 1 });
        expect(await store.load(first.workflowId)).toEqual(first);
      });

      it('updates a record saved at the expected version', async () => {
        const record = sampleWorkflowRecord();
        await store.save(record, 0);
        const next = { ...record, version: 2, stateValue: 'done', statePaths: ['done'], status: 'done' as const };
        await store.save(next, 1);
        expect(await store.load(record.workflowId)).toEqual(next);
        const third = { ...next, version: 3, updatedAt: '2025-01-02T00:00:00.000Z' };
        await store.save(third, 2);
        expect(await store.load(record.workflowId)).toEqual(third);
      });

      it('refuses an update from a stale version with VersionConflictError and keeps the stored record', async () => {
        const record = sampleWorkflowRecord();
        await saveAt({ ...record, version: 3 });
        await expectConflict(store.save({ ...record, version: 3 }, 2), { expectedVersion: 2, actualVersion: 3 });
        await expectConflict(store.save({ ...record, version: 5 }, 4), { expectedVersion: 4, actualVersion: 3 });
        expect((await store.load(record.workflowId))?.version).toBe(3);
      });

      it('refuses an update of a workflow that was never created with VersionConflictError', async () => {
        const record = sampleWorkflowRecord({ version: 2 });
        await expectConflict(store.save(record, 1), { expectedVersion: 1, actualVersion: null });
        expect(await store.load(record.workflowId)).toBeNull();
      });

      it('lets exactly one of two concurrent updates from the same version win', async () => {
        const record = sampleWorkflowRecord();
        await store.save(record, 0);
        await store.load(record.workflowId);
        const a = { ...record, version: 2, tags: { writer: 'a' } };
        const b = { ...record, version: 2, tags: { writer: 'b' } };
        const results = await Promise.allSettled([store.save(a, 1), store.save(b, 1)]);
        const won = results.filter((result) => result.status === 'fulfilled');
        const lost = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        expect(lost[0]).toBeInstanceOf(VersionConflictError);
        const winner = results[0].status === 'fulfilled' ? a : b;
        expect(await store.load(record.workflowId)).toEqual(winner);
      });

      it('lets exactly one of several concurrent creates of the same workflow win', async () => {
        const workflowId = uniqueWorkflowId();
        const candidates = [0, 1, 2, 3].map((n) => sampleWorkflowRecord({ workflowId, tags: { writer: String(n) } }));
        const results = await Promise.allSettled(candidates.map((candidate) => store.save(candidate, 0)));
        expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
        for (const result of results) {
          if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(VersionConflictError);
        }
        const winner = candidates[results.findIndex((result) => result.status === 'fulfilled')];
        expect(await store.load(workflowId)).toEqual(winner);
      });

      it('clears the outbox with a save at the same version, and the next version still follows it', async () => {
        const record = sampleWorkflowRecord({
          version: 1,
          outbox: [
            {
              id: 'x:1:0',
              subject: 'troupe.effect.reply-send',
              envelope: {
                id: 'x:1:0',
                type: 'reply.send_requested',
                workflowId: 'x',
                correlationId: 'c',
                causationId: 'e1',
                occurredAt: '2025-01-01T00:00:00.000Z',
                source: 'orchestrator',
                payload: {},
              },
            },
          ],
        });
        await store.save(record, 0);
        const cleared = { ...record, outbox: [] };
        await store.save(cleared, 1);
        expect(await store.load(record.workflowId)).toEqual(cleared);
        await store.save(cleared, 1);
        const next = { ...cleared, version: 2 };
        await store.save(next, 1);
        expect(await store.load(record.workflowId)).toEqual(next);
        await expectConflict(store.save({ ...next, version: 2 }, 1), { expectedVersion: 1, actualVersion: 2 });
      });

      it('refuses to save a record whose workflow id is not a valid workflow id', async () => {
        await expect(store.save(sampleWorkflowRecord({ workflowId: 'a.b' }), 0)).rejects.toBeInstanceOf(SchemaValidationError);
      });
    });

    describe('list', () => {
      /** Saves a small, varied population and returns it. */
      async function population(): Promise<WorkflowRecord[]> {
        const records = [
          sampleWorkflowRecord({ workflowId: 'alpha-1', status: 'active', statePaths: ['classifying'], tags: { label: 'ham' } }),
          sampleWorkflowRecord({
            workflowId: 'alpha-2',
            status: 'active',
            stateValue: { review: 'waiting' },
            statePaths: ['review', 'review.waiting'],
            tags: { label: 'spam', route: 'draft_reply' },
          }),
          sampleWorkflowRecord({ workflowId: 'alpha-3', status: 'done', stateValue: 'done', statePaths: ['done'], tags: { label: 'spam' } }),
          sampleWorkflowRecord({
            workflowId: 'beta-1',
            workflowType: 'claim-processing',
            status: 'error',
            stateValue: 'failed',
            statePaths: ['failed'],
            tags: { label: 'ham' },
          }),
          sampleWorkflowRecord({
            workflowId: 'beta-2',
            workflowType: 'claim-processing',
            status: 'active',
            stateValue: { review: 'waiting' },
            statePaths: ['review', 'review.waiting'],
            tags: { 'odd.key': 'yes' },
          }),
        ];
        // Saved out of id order: the store, not insertion order, must sort.
        for (const record of [...records].reverse()) await store.save(record, 0);
        return records;
      }

      async function ids(query: WorkflowQuery): Promise<string[]> {
        const page = await store.list(query);
        expect(page.nextCursor).toBeNull();
        return page.items.map((item) => item.workflowId);
      }

      it('returns an empty last page from an empty store', async () => {
        expect(await store.list({})).toEqual({ items: [], nextCursor: null });
      });

      it('returns every record sorted by workflow id when no filter is given', async () => {
        const records = await population();
        const page = await store.list({});
        expect(page).toEqual({ items: records, nextCursor: null });
      });

      it('filters by status', async () => {
        await population();
        expect(await ids({ status: 'active' })).toEqual(['alpha-1', 'alpha-2', 'beta-2']);
        expect(await ids({ status: 'error' })).toEqual(['beta-1']);
        expect(await ids({ status: 'stopped' })).toEqual([]);
      });

      it('filters by an exact state path, parent or leaf', async () => {
        await population();
        expect(await ids({ state: 'review.waiting' })).toEqual(['alpha-2', 'beta-2']);
        expect(await ids({ state: 'review' })).toEqual(['alpha-2', 'beta-2']);
        expect(await ids({ state: 'waiting' })).toEqual([]);
        expect(await ids({ state: 'done' })).toEqual(['alpha-3']);
      });

      it('filters by one tag', async () => {
        await population();
        expect(await ids({ tag: { key: 'label', value: 'spam' } })).toEqual(['alpha-2', 'alpha-3']);
        expect(await ids({ tag: { key: 'route', value: 'draft_reply' } })).toEqual(['alpha-2']);
        expect(await ids({ tag: { key: 'odd.key', value: 'yes' } })).toEqual(['beta-2']);
        expect(await ids({ tag: { key: 'label', value: 'unknown' } })).toEqual([]);
      });

      it('filters by workflow type', async () => {
        await population();
        expect(await ids({ workflowType: 'claim-processing' })).toEqual(['beta-1', 'beta-2']);
        expect(await ids({ workflowType: 'email-triage' })).toEqual(['alpha-1', 'alpha-2', 'alpha-3']);
      });

      it('filters by id prefix', async () => {
        await population();
        expect(await ids({ idPrefix: 'beta-' })).toEqual(['beta-1', 'beta-2']);
        expect(await ids({ idPrefix: 'alpha-2' })).toEqual(['alpha-2']);
        expect(await ids({ idPrefix: 'gamma' })).toEqual([]);
      });

      it('combines filters with and', async () => {
        await population();
        expect(await ids({ status: 'active', state: 'review.waiting', workflowType: 'email-triage' })).toEqual(['alpha-2']);
        expect(await ids({ idPrefix: 'alpha', tag: { key: 'label', value: 'ham' } })).toEqual(['alpha-1']);
      });

      it('lists a record under its latest saved values', async () => {
        const records = await population();
        const alpha1 = records[0];
        await store.save({ ...alpha1, version: 2, status: 'done', stateValue: 'done', statePaths: ['done'] }, 1);
        expect(await ids({ state: 'done' })).toEqual(['alpha-1', 'alpha-3']);
        expect(await ids({ status: 'active' })).toEqual(['alpha-2', 'beta-2']);
      });

      it('pages with the cursor through every record exactly once, in id order', async () => {
        const saved: string[] = [];
        for (let n = 0; n < 23; n += 1) {
          const workflowId = `page-${String((n * 7) % 23).padStart(2, '0')}`;
          await store.save(sampleWorkflowRecord({ workflowId, status: n % 2 === 0 ? 'active' : 'done' }), 0);
          saved.push(workflowId);
        }
        const seen: string[] = [];
        const pageSizes: number[] = [];
        let cursor: string | undefined;
        for (let pages = 0; pages < 10; pages += 1) {
          const page = await store.list({ limit: 5, cursor });
          pageSizes.push(page.items.length);
          seen.push(...page.items.map((item) => item.workflowId));
          if (page.nextCursor === null) break;
          cursor = page.nextCursor;
        }
        expect(pageSizes).toEqual([5, 5, 5, 5, 3]);
        expect(seen).toEqual([...saved].sort());
      });

      it('pages a filtered query and ends without an empty page when the last page is full', async () => {
        for (let n = 0; n < 12; n += 1) {
          await store.save(sampleWorkflowRecord({ workflowId: `full-${String(n).padStart(2, '0')}`, status: n < 8 ? 'active' : 'done' }), 0);
        }
        const first = await store.list({ status: 'active', limit: 4 });
        expect(first.items.map((item) => item.workflowId)).toEqual(['full-00', 'full-01', 'full-02', 'full-03']);
        expect(first.nextCursor).not.toBeNull();
        const second = await store.list({ status: 'active', limit: 4, cursor: first.nextCursor ?? undefined });
        expect(second.items.map((item) => item.workflowId)).toEqual(['full-04', 'full-05', 'full-06', 'full-07']);
        expect(second.nextCursor).toBeNull();
      });

      it('returns at most 100 records per page by default', async () => {
        for (let n = 0; n < 105; n += 1) {
          await store.save(sampleWorkflowRecord({ workflowId: `many-${String(n).padStart(3, '0')}` }), 0);
        }
        const first = await store.list({});
        expect(first.items).toHaveLength(100);
        const second = await store.list({ cursor: first.nextCursor ?? undefined });
        expect(second.items.map((item) => item.workflowId)).toEqual(['many-100', 'many-101', 'many-102', 'many-103', 'many-104']);
        expect(second.nextCursor).toBeNull();
      });

      it('rejects a cursor it did not issue with SchemaValidationError', async () => {
        await expect(store.list({ cursor: '***' })).rejects.toBeInstanceOf(SchemaValidationError);
      });
    });

    describe('read model: sort, time and version filters, counts', () => {
      const STATES: Array<{ stateValue: WorkflowRecord['stateValue']; statePaths: string[]; status: WorkflowRecord['status'] }> = [
        { stateValue: 'classifying', statePaths: ['classifying'], status: 'active' },
        { stateValue: 'awaitingApproval', statePaths: ['awaitingApproval'], status: 'active' },
        { stateValue: { review: 'waiting' }, statePaths: ['review', 'review.waiting'], status: 'active' },
        { stateValue: 'sent', statePaths: ['sent'], status: 'done' },
        { stateValue: 'failed', statePaths: ['failed'], status: 'error' },
      ];

      /**
       * 40 records with every field the read model filters on varied by a fixed rule, several sharing
       * an `updatedAt` (so ties are broken by id), saved out of order.
       */
      async function fleet(): Promise<WorkflowRecord[]> {
        const records = Array.from({ length: 40 }, (_, n) => {
          const state = STATES[(n * 3) % STATES.length];
          return sampleWorkflowRecord({
            workflowId: `${n % 2 === 0 ? 'tri' : 'clm'}-${String((n * 17) % 40).padStart(2, '0')}`,
            workflowType: n % 2 === 0 ? 'email-triage' : 'claim-processing',
            machineVersion: n % 5 === 0 ? '2' : '1',
            ...state,
            tags: n % 3 === 0 ? { label: 'spam' } : { label: 'ham', route: n % 4 === 0 ? 'draft_reply' : 'summarise' },
            snapshot: {
              status: state.status,
              value: state.stateValue,
              context: {
                attempts: n % 4,
                classification: { label: n % 3 === 0 ? 'spam' : 'ham', confident: n % 2 === 0 },
                recipients: [{ address: `r${n % 5}@example.org` }, { address: 'all@example.org' }],
                flags: n % 6 === 0 ? ['urgent', 'vip'] : [],
              },
            },
            updatedAt: new Date(Date.UTC(2025, 0, 1, 0, 0, Math.floor(n / 3))).toISOString(),
          });
        });
        for (const record of [...records].reverse()) await store.save(record, 0);
        return records;
      }

      /** Every record of `query`, page by page (pages of `limit`), checking no page is empty but the first. */
      async function pageThrough(query: WorkflowQuery): Promise<string[]> {
        const seen: string[] = [];
        let cursor: string | undefined;
        for (let pages = 0; pages < 100; pages += 1) {
          const page = await store.list({ ...query, cursor });
          if (pages > 0) expect(page.items.length).toBeGreaterThan(0);
          seen.push(...page.items.map((item) => item.workflowId));
          if (page.nextCursor === null) return seen;
          cursor = page.nextCursor;
        }
        throw new Error('more than 100 pages');
      }

      /** What any store must answer: the records matching, in the sort's order (the oracle). */
      function expected(records: WorkflowRecord[], query: WorkflowQuery): string[] {
        const sort = sortOf(query);
        return records
          .filter((record) => recordMatches(record, query))
          .sort((a, b) => compareRecords(a, b, sort))
          .map((record) => record.workflowId);
      }

      function expectedCounts(records: WorkflowRecord[], filter: WorkflowFilter): WorkflowCounts {
        const counts: WorkflowCounts = { total: 0, byStatus: {}, byState: {} };
        for (const record of records) if (recordMatches(record, filter)) addToCounts(counts, record);
        return counts;
      }

      const SORTS: WorkflowSort[] = [
        { field: 'workflowId', order: 'asc' },
        { field: 'workflowId', order: 'desc' },
        { field: 'updatedAt', order: 'asc' },
        { field: 'updatedAt', order: 'desc' },
      ];
      const FILTERS: WorkflowFilter[] = [
        {},
        { workflowType: 'email-triage' },
        { machineVersion: '2' },
        { status: 'active' },
        { state: 'awaitingApproval', workflowType: 'email-triage' },
        { state: 'review' },
        { tag: { key: 'label', value: 'spam' } },
        { tag: { key: 'route', value: 'draft_reply' }, status: 'active' },
        { updatedAfter: '2025-01-01T00:00:05.000Z' },
        { updatedBefore: '2025-01-01T00:00:05.000Z' },
        { updatedAfter: '2025-01-01T00:00:03.000Z', updatedBefore: '2025-01-01T00:00:09.000Z', idPrefix: 'clm-' },
        { workflowType: 'claim-processing', machineVersion: '1', status: 'active' },
        { context: { path: 'attempts', value: 2 } },
        { context: { path: 'attempts', value: '2' } },
        { context: { path: 'classification.label', value: 'spam' }, status: 'active' },
        { context: { path: 'classification.confident', value: true } },
        { context: { path: 'recipients.address', value: 'r3@example.org' } },
        { context: { path: 'flags', value: 'vip' } },
        { context: { path: 'missing.field', value: 'x' } },
      ];

      it('answers every filter under every sort with what the filter and sort define, paging by cursor', async () => {
        const records = await fleet();
        for (const filter of FILTERS) {
          for (const sort of SORTS) {
            const query = { ...filter, sort, limit: 7 };
            expect(await pageThrough(query), JSON.stringify(query)).toEqual(expected(records, query));
          }
        }
      });

      it('sorts by updatedAt with ties broken by workflow id, both ways', async () => {
        await fleet();
        const ascending = await store.list({ sort: { field: 'updatedAt', order: 'asc' }, limit: 4 });
        expect(ascending.items.map((item) => [item.updatedAt.slice(17, 19), item.workflowId])).toEqual([
          ['00', 'clm-17'],
          ['00', 'tri-00'],
          ['00', 'tri-34'],
          ['01', 'clm-05'],
        ]);
        const descending = await store.list({ sort: { field: 'updatedAt', order: 'desc' }, limit: 2 });
        expect(descending.items.map((item) => item.workflowId)).toEqual(['clm-23', 'tri-12']);
      });

      it('filters by updated before and after, both strict', async () => {
        const records = await fleet();
        const at = '2025-01-01T00:00:04.000Z';
        const before = await pageThrough({ updatedBefore: at });
        const after = await pageThrough({ updatedAfter: at });
        const exactly = records.filter((record) => record.updatedAt === at).map((record) => record.workflowId);
        expect(exactly).toHaveLength(3);
        expect(before.length + after.length + exactly.length).toBe(records.length);
        for (const id of exactly) expect([...before, ...after]).not.toContain(id);
      });

      it('filters by machine version', async () => {
        await fleet();
        expect(await pageThrough({ machineVersion: '2' })).toEqual(['clm-05', 'clm-15', 'clm-25', 'clm-35', 'tri-00', 'tri-10', 'tri-20', 'tri-30']);
        expect(await pageThrough({ machineVersion: '3' })).toEqual([]);
      });

      it('counts per status and per state path what the filter matches', async () => {
        const records = await fleet();
        for (const filter of FILTERS) expect(await store.count(filter), JSON.stringify(filter)).toEqual(expectedCounts(records, filter));
        expect(await store.count({ workflowType: 'email-triage' })).toEqual({
          total: 20,
          byStatus: { active: 12, done: 4, error: 4 },
          byState: { classifying: 4, awaitingApproval: 4, review: 4, 'review.waiting': 4, sent: 4, failed: 4 },
        });
        expect(await store.count({ workflowType: 'none' })).toEqual({ total: 0, byStatus: {}, byState: {} });
      });

      it('filters by a context field, matching inside arrays, and refuses a path that is not dotted names', async () => {
        await fleet();
        expect(await pageThrough({ context: { path: 'flags', value: 'urgent' } })).toEqual(['tri-00', 'tri-04', 'tri-08', 'tri-12', 'tri-22', 'tri-26', 'tri-30']);
        expect(await pageThrough({ context: { path: 'recipients.address', value: 'all@example.org' } })).toHaveLength(40);
        expect(await pageThrough({ context: { path: 'attempts', value: '1' } })).toEqual([]);
        for (const path of ['a..b', '$where', 'a.0', 'tags.$**']) {
          await expect(store.list({ context: { path, value: 'x' } })).rejects.toBeInstanceOf(SchemaValidationError);
        }
      });

      it('rejects a cursor made under another sort with SchemaValidationError', async () => {
        await fleet();
        const page = await store.list({ limit: 3, sort: { field: 'updatedAt', order: 'asc' } });
        await expect(store.list({ cursor: page.nextCursor ?? undefined })).rejects.toBeInstanceOf(SchemaValidationError);
        await expect(store.list({ cursor: page.nextCursor ?? undefined, sort: { field: 'updatedAt', order: 'desc' } })).rejects.toBeInstanceOf(
          SchemaValidationError,
        );
      });
    });
  });
}
