import { listKvKeys } from '@troupe/bus';
import { BUCKETS } from '@troupe/contracts';
import type { JetStreamClient, KV, NatsConnection } from 'nats';
import { PersistenceError } from '../errors';
import { checkIdempotencyKey, decodeStoredJson, encodeJson, parseStoredSentMailRecord } from '../records';
import type { SentMailLedger, SentMailRecord } from '../types';
import { isWrongLastSequence } from './jetstream-errors';

/** Options of {@link KvSentMailLedger.open}. */
export interface KvSentMailLedgerOptions {
  /** A connection with JetStream enabled; the caller owns it (the ledger never closes it). */
  nats: NatsConnection;
  /** KV bucket name; default `BUCKETS.sentMail`. Created (history 1) when missing. */
  bucket?: string;
}

/**
 * {@link SentMailLedger} over a JetStream KV bucket (the embedded default). Each record is written once
 * with `kv.create`, whose compare-and-set on "no value yet" makes concurrent deliveries of one key
 * agree on a single first record.
 *
 * KV keys allow only `[-/_=.A-Za-z0-9]` and idempotency keys contain `:`, so the key is the
 * idempotency key's UTF-8 bytes in base64url (RFC 4648 §5, no padding): reversible and collision-free.
 */
export class KvSentMailLedger implements SentMailLedger {
  private constructor(
    private readonly kv: KV,
    private readonly js: JetStreamClient,
    private readonly bucket: string,
  ) {}

  /**
   * Opens the ledger, creating its bucket (history 1) when missing.
   *
   * @throws NatsError when JetStream is unavailable or refuses the bucket.
   */
  static async open(options: KvSentMailLedgerOptions): Promise<KvSentMailLedger> {
    const js = options.nats.jetstream();
    const bucket = options.bucket ?? BUCKETS.sentMail;
    return new KvSentMailLedger(await js.views.kv(bucket, { history: 1 }), js, bucket);
  }

  /**
   * Writes `record` unless its idempotency key is recorded; otherwise returns the first record.
   *
   * @throws SchemaValidationError when the key is empty, or the stored record is unreadable.
   */
  async recordOnce(record: SentMailRecord): Promise<{ record: SentMailRecord; firstDelivery: boolean }> {
    checkIdempotencyKey(record.idempotencyKey);
    const key = kvKeyOf(record.idempotencyKey);
    try {
      await this.kv.create(key, encodeJson(record));
      return { record, firstDelivery: true };
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error;
    }
    const existing = await this.kv.get(key);
    if (existing === null || existing.operation !== 'PUT') {
      // kv.create only refuses a live value and this ledger never deletes one: someone purged it.
      throw new PersistenceError('SENT_MAIL_RECORD_VANISHED', `sent-mail record ${record.idempotencyKey} existed on create, gone on read`, {
        retryable: true,
      });
    }
    const what = `stored sent-mail record ${record.idempotencyKey}`;
    return { record: parseStoredSentMailRecord(decodeStoredJson(existing.value, what), record.idempotencyKey), firstDelivery: false };
  }

  /**
   * Every recorded reply, sorted by idempotency key, by scanning the bucket.
   *
   * @throws SchemaValidationError when a stored value is not a sent-mail record.
   */
  async list(): Promise<SentMailRecord[]> {
    const keys = await listKvKeys(this.js, this.bucket);
    const records: SentMailRecord[] = [];
    for (const key of keys) {
      const entry = await this.kv.get(key);
      if (entry === null || entry.operation !== 'PUT') continue;
      const idempotencyKey = idempotencyKeyOf(key);
      records.push(parseStoredSentMailRecord(decodeStoredJson(entry.value, `stored sent-mail record ${idempotencyKey}`), idempotencyKey));
    }
    return records.sort((a, b) => (a.idempotencyKey < b.idempotencyKey ? -1 : a.idempotencyKey > b.idempotencyKey ? 1 : 0));
  }
}

/** The KV key of an idempotency key: base64url of its UTF-8 bytes. */
export function kvKeyOf(idempotencyKey: string): string {
  return Buffer.from(idempotencyKey, 'utf8').toString('base64url');
}

/** The idempotency key a {@link kvKeyOf} key encodes. */
export function idempotencyKeyOf(kvKey: string): string {
  return Buffer.from(kvKey, 'base64url').toString('utf8');
}
