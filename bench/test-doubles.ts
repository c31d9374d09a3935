import type { JournalEntry } from '@troupe/contracts';
import type { Journal, SnapshotStore, WorkflowPage, WorkflowRecord } from '@troupe/persistence';

/**
 * Test double: a snapshot store that accepts every save and keeps nothing, so that the heap measured
 * around an {@link ActorRuntime} holds the runtime's actor cache alone. `load` always answers null
 * (every actor lives in the cache). `onSave` sees each record as it would be written.
 */
export class DiscardingSnapshotStore implements SnapshotStore {
  saves = 0;

  constructor(private readonly onSave?: (record: WorkflowRecord, expectedVersion: number) => void) {}

  async load(): Promise<WorkflowRecord | null> {
    return null;
  }

  async save(record: WorkflowRecord, expectedVersion: number): Promise<void> {
    this.saves += 1;
    this.onSave?.(record, expectedVersion);
  }

  async list(): Promise<WorkflowPage> {
    return { items: [], nextCursor: null };
  }
}

/** Test double: a journal that keeps nothing; `onAppend` sees each entry. */
export class DiscardingJournal implements Journal {
  appends = 0;

  constructor(private readonly onAppend?: (entry: JournalEntry) => void) {}

  async append(entry: JournalEntry): Promise<void> {
    this.appends += 1;
    this.onAppend?.(entry);
  }

  async read(): Promise<JournalEntry[]> {
    return [];
  }
}
