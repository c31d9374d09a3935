import { listKvKeys } from '@troupe/bus';
import { CLAIM_BUCKETS } from '@troupe/contracts';
import { NatsError, type JetStreamClient, type KV, type NatsConnection } from 'nats';
import { z } from 'zod';


/** A notification to a claimant as recorded (Troupe sends no email: the ledger is the outbox). */
export const ClaimNotificationRecord = z.object({
  idempotencyKey: z.string().min(1),
  workflowId: z.string(),
  claimId: z.string(),
  to: z.string(),
  subject: z.string(),
  body: z.string(),
  notifiedAt: z.iso.datetime({ offset: true }),
});
export type ClaimNotificationRecord = z.infer<typeof ClaimNotificationRecord>;

/** An audit record of a decided claim. `record` is the audit task's input as validated. */
export const ClaimAuditRecord = z.object({
  idempotencyKey: z.string().min(1),
  workflowId: z.string(),
  claimId: z.string(),
  record: z.unknown(),
  recordedAt: z.iso.datetime({ offset: true }),
});
export type ClaimAuditRecord = z.infer<typeof ClaimAuditRecord>;

/** A ledger that keeps one record per idempotency key: the first write wins, later ones get it back. */
export interface OnceLedger<T extends { idempotencyKey: string }> {
  /** Writes `record` unless its key is recorded; otherwise returns the first record with `firstDelivery: false`. */
  recordOnce(record: T): Promise<{ record: T; firstDelivery: boolean }>;
  /** Every record, in key order. */
  list(): Promise<T[]>;
}

/**
 * {@link OnceLedger} over a JetStream KV bucket (history 1), as the sent-mail ledger of libs/persistence:
 * `kv.create` refuses a key that has a value, so concurrent deliveries of one effect agree on a single
 * first record. Keys are the idempotency key's UTF-8 bytes in base64url (KV keys allow no `:`).
 */
export class KvOnceLedger<T extends { idempotencyKey: string }> implements OnceLedger<T> {
  private constructor(
    private readonly kv: KV,
    private readonly js: JetStreamClient,
    private readonly bucket: string,
    private readonly schema: z.ZodType<T>,
  ) {}

  /**
   * Opens the ledger, creating its bucket when missing.
   *
   * @throws NatsError when JetStream is unavailable or refuses the bucket.
   */
  static async open<T extends { idempotencyKey: string }>(nats: NatsConnection, bucket: string, schema: z.ZodType<T>): Promise<KvOnceLedger<T>> {
    const js = nats.jetstream();
    return new KvOnceLedger(await js.views.kv(bucket, { history: 1 }), js, bucket, schema);
  }

  /**
   * @throws Error when the key is empty or the stored record fails the schema (both not retryable in effect:
   *   the transport dead-letters on schema errors of its own; here the effect handler reports the failure).
   */
  async recordOnce(record: T): Promise<{ record: T; firstDelivery: boolean }> {
    if (record.idempotencyKey === '') throw new Error('empty idempotency key');
    const key = Buffer.from(record.idempotencyKey, 'utf8').toString('base64url');
    try {
      await this.kv.create(key, new TextEncoder().encode(JSON.stringify(record)));
      return { record, firstDelivery: true };
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error;
    }
    const existing = await this.kv.get(key);
    if (existing === null || existing.operation !== 'PUT') throw new Error(`ledger record ${record.idempotencyKey} existed on create, gone on read`);
    return { record: this.schema.parse(JSON.parse(new TextDecoder().decode(existing.value))), firstDelivery: false };
  }

  async list(): Promise<T[]> {
    const records: T[] = [];
    for (const key of await listKvKeys(this.js, this.bucket)) {
      const entry = await this.kv.get(key);
      if (entry !== null && entry.operation === 'PUT') records.push(this.schema.parse(JSON.parse(new TextDecoder().decode(entry.value))));
    }
    return records.sort((a, b) => (a.idempotencyKey < b.idempotencyKey ? -1 : a.idempotencyKey > b.idempotencyKey ? 1 : 0));
  }
}

/** The two ledgers of claim processing. */
export interface ClaimLedgers {
  notifications: OnceLedger<ClaimNotificationRecord>;
  auditRecords: OnceLedger<ClaimAuditRecord>;
}

/** Opens the notification and audit ledgers in their KV buckets ({@link CLAIM_BUCKETS}). */
export async function openClaimLedgers(nats: NatsConnection): Promise<ClaimLedgers> {
  return {
    notifications: await KvOnceLedger.open(nats, CLAIM_BUCKETS.notifications, ClaimNotificationRecord),
    auditRecords: await KvOnceLedger.open(nats, CLAIM_BUCKETS.auditRecords, ClaimAuditRecord),
  };
}

/** `kv.create` lost its compare-and-set: the key already has a value (JetStream API error 10071, `JSStreamWrongLastSequenceErrF`). */
function isWrongLastSequence(error: unknown): boolean {
  return error instanceof NatsError && (error.api_error?.err_code === 10071 || /wrong last sequence/i.test(error.message));
}
