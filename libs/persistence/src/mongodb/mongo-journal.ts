import { formatIssues, JournalEntry, SchemaValidationError } from '@troupe/contracts';
import type { Collection } from 'mongodb';
import { checkWorkflowId } from '../records';
import type { RetainableJournal } from '../types';
import { isDuplicateKey, MAJORITY } from './mongo-errors';
import type { MongoStoreOptions } from './mongo-snapshot-store';

/** Collection of journal entries. */
export const JOURNAL_COLLECTION = 'journal';

/** Collection of journal entries moved out of `journal` by retention (same shape and indexes). */
export const JOURNAL_ARCHIVE_COLLECTION = 'journal_archive';

/** A journal entry as stored: the entry with `_id` = `<workflowId>:<seq>`. */
type JournalDocument = JournalEntry & { _id: string };

/**
 * {@link Journal} over the MongoDB collection `journal`, one document per entry with
 * `_id` = `<workflowId>:<seq>` (so a repeated append is a duplicate key, ignored) and a unique index
 * on `{ workflowId, seq }` that also serves reads. Appends wait for a majority.
 */
export class MongoJournal implements RetainableJournal {
  private readonly entries: Collection<JournalDocument>;

  /** `options.role` `archive`: the collection `journal_archive` instead of `journal`. */
  constructor(options: MongoStoreOptions & { role?: 'journal' | 'archive' }) {
    const name = options.role === 'archive' ? JOURNAL_ARCHIVE_COLLECTION : JOURNAL_COLLECTION;
    this.entries = options.client.db(options.dbName).collection<JournalDocument>(name, MAJORITY);
  }

  /** Deletes every entry of `workflowId` (majority write) and returns how many went. */
  async remove(workflowId: string): Promise<number> {
    const { deletedCount } = await this.entries.deleteMany({ workflowId });
    return deletedCount;
  }

  /** Creates the unique index `{ workflowId: 1, seq: 1 }` (idempotent). */
  async ensureIndexes(): Promise<void> {
    await this.entries.createIndex({ workflowId: 1, seq: 1 }, { unique: true });
  }

  /**
   * Inserts `entry`; a repeat of `(workflowId, seq)` is a no-op.
   *
   * @throws SchemaValidationError when `entry` is not a {@link JournalEntry}.
   */
  async append(entry: JournalEntry): Promise<void> {
    const result = JournalEntry.safeParse(entry);
    if (!result.success) throw new SchemaValidationError('journal entry', formatIssues(result.error));
    checkWorkflowId(entry.workflowId);
    try {
      await this.entries.insertOne({ ...result.data, _id: `${entry.workflowId}:${entry.seq}` });
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
  }

  /**
   * Every entry of `workflowId` in `seq` order; [] for an unknown workflow.
   *
   * @throws SchemaValidationError when a stored document is not a {@link JournalEntry}.
   */
  async read(workflowId: string): Promise<JournalEntry[]> {
    const documents = await this.entries.find({ workflowId }).sort({ seq: 1 }).toArray();
    return documents.map(({ _id, ...stored }) => {
      const parsed = JournalEntry.safeParse(stored);
      if (!parsed.success) throw new SchemaValidationError(`journal document ${_id}`, formatIssues(parsed.error));
      return parsed.data;
    });
  }
}
