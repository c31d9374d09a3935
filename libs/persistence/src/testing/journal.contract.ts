import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RetainableJournal } from '../types';
import { sampleJournalEntry, uniqueWorkflowId } from './fixtures';

/** What a journal factory gives the contract suite: a journal and how to dispose of it. */
export interface JournalUnderTest {
  journal: RetainableJournal;
  /** Closes what the factory opened and removes what the test wrote, where it can. */
  cleanup(): Promise<void>;
}

/**
 * Registers (with vitest `describe`/`it`) the behaviour every {@link Journal} adapter must show:
 * appends read back in `seq` order, a repeated `(workflowId, seq)` is a no-op, an unknown workflow
 * reads as []. `factory` runs before every test; the journal need not be empty (the suite uses fresh
 * workflow ids), so adapters bound to fixed stream subjects can share one stream.
 */
export function describeJournalContract(name: string, factory: () => Promise<JournalUnderTest>): void {
  describe(`Journal contract: ${name}`, () => {
    let journal: RetainableJournal;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ journal, cleanup } = await factory());
    });

    afterEach(async () => {
      await cleanup();
    });

    it('reads [] for a workflow with no entries', async () => {
      expect(await journal.read(uniqueWorkflowId())).toEqual([]);
    });

    it('reads appended entries back unchanged, in seq order whatever the append order', async () => {
      const workflowId = uniqueWorkflowId();
      const entries = [1, 2, 3, 4].map((seq) => sampleJournalEntry(workflowId, seq));
      for (const seq of [3, 1, 4, 2]) await journal.append(entries[seq - 1]);
      expect(await journal.read(workflowId)).toEqual(entries);
    });

    it('treats appending the same (workflowId, seq) again as a no-op that keeps the first entry', async () => {
      const workflowId = uniqueWorkflowId();
      const first = sampleJournalEntry(workflowId, 1);
      await journal.append(first);
      await journal.append(first);
      await journal.append({ ...first, eventId: 'a-different-event', rejection: 'not allowed' });
      await Promise.all([journal.append(first), journal.append(first), journal.append(first)]);
      const second = sampleJournalEntry(workflowId, 2);
      await journal.append(second);
      await journal.append(second);
      expect(await journal.read(workflowId)).toEqual([first, second]);
    });

    it("keeps each workflow's entries apart", async () => {
      const one = uniqueWorkflowId('one');
      const other = uniqueWorkflowId('other');
      await journal.append(sampleJournalEntry(one, 1));
      await journal.append(sampleJournalEntry(other, 1));
      await journal.append(sampleJournalEntry(other, 2));
      expect((await journal.read(one)).map((entry) => [entry.workflowId, entry.seq])).toEqual([[one, 1]]);
      expect((await journal.read(other)).map((entry) => [entry.workflowId, entry.seq])).toEqual([
        [other, 1],
        [other, 2],
      ]);
    });

    it('reads a long journal completely', async () => {
      const workflowId = uniqueWorkflowId();
      const count = 600;
      for (let seq = 1; seq <= count; seq += 50) {
        await Promise.all(Array.from({ length: 50 }, (_, n) => journal.append(sampleJournalEntry(workflowId, seq + n))));
      }
      const read = await journal.read(workflowId);
      expect(read.map((entry) => entry.seq)).toEqual(Array.from({ length: count }, (_, n) => n + 1));
    });

    it('reads [] for an id that is not a valid workflow id', async () => {
      expect(await journal.read('not a valid id')).toEqual([]);
    });

    it("removes every entry of one workflow and no other's, and reports how many", async () => {
      const gone = uniqueWorkflowId('gone');
      const kept = uniqueWorkflowId('kept');
      for (const seq of [1, 2, 3]) await journal.append(sampleJournalEntry(gone, seq));
      await journal.append(sampleJournalEntry(kept, 1));
      expect(await journal.remove(gone)).toBe(3);
      expect(await journal.read(gone)).toEqual([]);
      expect(await journal.read(kept)).toHaveLength(1);
      expect(await journal.remove(gone)).toBe(0);
      expect(await journal.remove('not a valid id')).toBe(0);
    });
  });
}
