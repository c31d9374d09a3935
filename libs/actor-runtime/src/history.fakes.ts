import type { JournalEntry } from '@troupe/contracts';
import { VersionConflictError, type Journal, type SnapshotStore, type WorkflowPage, type WorkflowQuery, type WorkflowRecord } from '@troupe/persistence';

/**
 * Test double for the history specs: an in-memory snapshot store with the version precondition of the
 * real ones, and a `list` that honours the filters migrations use (type, machine version, status) and
 * pages by id.
 */
export class InMemorySnapshotStore implements SnapshotStore {
  readonly records = new Map<string, WorkflowRecord>();

  async load(workflowId: string): Promise<WorkflowRecord | null> {
    const record = this.records.get(workflowId);
    return record === undefined ? null : structuredClone(record);
  }

  async save(record: WorkflowRecord, expectedVersion: number): Promise<void> {
    const stored = this.records.get(record.workflowId);
    if ((stored?.version ?? 0) !== expectedVersion || (expectedVersion === 0 && stored !== undefined)) {
      throw new VersionConflictError(record.workflowId, expectedVersion, stored?.version ?? null);
    }
    this.records.set(record.workflowId, structuredClone(record));
  }

  async list(query: WorkflowQuery): Promise<WorkflowPage> {
    const limit = query.limit ?? 100;
    const matching = [...this.records.values()]
      .filter((r) => query.workflowType === undefined || r.workflowType === query.workflowType)
      .filter((r) => query.machineVersion === undefined || r.machineVersion === query.machineVersion)
      .filter((r) => query.status === undefined || r.status === query.status)
      .filter((r) => query.cursor === undefined || r.workflowId > query.cursor)
      .sort((a, b) => (a.workflowId < b.workflowId ? -1 : 1));
    const items = matching.slice(0, limit).map((r) => structuredClone(r));
    return { items, nextCursor: matching.length > limit ? items[items.length - 1].workflowId : null };
  }
}

/** Test double: an in-memory journal, idempotent on (workflowId, seq) like the real ones. */
export class InMemoryJournal implements Journal {
  readonly entries: JournalEntry[] = [];

  async append(entry: JournalEntry): Promise<void> {
    if (!this.entries.some((e) => e.workflowId === entry.workflowId && e.seq === entry.seq)) this.entries.push(structuredClone(entry));
  }

  async read(workflowId: string): Promise<JournalEntry[]> {
    return this.entries.filter((e) => e.workflowId === workflowId).sort((a, b) => a.seq - b.seq);
  }
}
