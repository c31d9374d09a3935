import type { Collection } from 'mongodb';
import { PersistenceError } from '../errors';
import { checkIdempotencyKey, parseStoredSentMailRecord } from '../records';
import type { SentMailLedger, SentMailRecord } from '../types';
import { isDuplicateKey, MAJORITY } from './mongo-errors';
import type { MongoStoreOptions } from './mongo-snapshot-store';

/** Collection of sent replies. */
export const SENT_MAIL_COLLECTION = 'sent_mail';

/** A sent-mail record as stored: the record with `_id` = idempotency key. */
type SentMailDocument = SentMailRecord & { _id: string };

/**
 * {@link SentMailLedger} over the MongoDB collection `sent_mail` with `_id` = idempotency key: the
 * first insert of a key wins, a later one hits the duplicate key and returns the stored record.
 * Writes wait for a majority.
 */
export class MongoSentMailLedger implements SentMailLedger {
  private readonly sentMail: Collection<SentMailDocument>;

  constructor(options: MongoStoreOptions) {
    this.sentMail = options.client.db(options.dbName).collection<SentMailDocument>(SENT_MAIL_COLLECTION, MAJORITY);
  }

  /** Creates an index on `workflowId` (idempotent); uniqueness rests on `_id`. */
  async ensureIndexes(): Promise<void> {
    await this.sentMail.createIndex({ workflowId: 1 });
  }

  /**
   * Inserts `record` unless its idempotency key is recorded; otherwise returns the first record.
   *
   * @throws SchemaValidationError when the key is empty, or the stored record is unreadable.
   */
  async recordOnce(record: SentMailRecord): Promise<{ record: SentMailRecord; firstDelivery: boolean }> {
    checkIdempotencyKey(record.idempotencyKey);
    try {
      await this.sentMail.insertOne({ ...record, _id: record.idempotencyKey });
      return { record, firstDelivery: true };
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
    const stored = await this.sentMail.findOne({ _id: record.idempotencyKey });
    if (stored === null) {
      throw new PersistenceError('SENT_MAIL_RECORD_VANISHED', `sent-mail record ${record.idempotencyKey} existed on insert, gone on read`, {
        retryable: true,
      });
    }
    const { _id, ...first } = stored;
    return { record: parseStoredSentMailRecord(first, _id), firstDelivery: false };
  }

  /**
   * Every recorded reply, sorted by idempotency key.
   *
   * @throws SchemaValidationError when a stored document is not a sent-mail record.
   */
  async list(): Promise<SentMailRecord[]> {
    const documents = await this.sentMail.find({}).sort({ _id: 1 }).toArray();
    return documents.map(({ _id, ...record }) => parseStoredSentMailRecord(record, _id));
  }
}
