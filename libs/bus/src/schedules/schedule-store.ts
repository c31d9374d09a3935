import type { JetStreamClient, KV, NatsConnection } from 'nats';
import { SCHEDULES_BUCKET, ScheduleRecord, TroupeError, formatIssues } from '@troupe/contracts';
import { listKvKeys } from '../kv-keys';

/** A schedule record as read, with the KV revision a compare-and-set must name. */
export interface StoredSchedule {
  record: ScheduleRecord;
  revision: number;
}

/** Schedule store errors. `code` is stable. */
export class ScheduleStoreError extends TroupeError {
  constructor(message: string, code: 'SCHEDULE_EXISTS' | 'SCHEDULE_UNREADABLE' | 'SCHEDULE_NOT_FOUND', options: { cause?: unknown } = {}) {
    super(code, message, { retryable: false, cause: options.cause });
  }
}

const WRONG_LAST_SEQUENCE = 10071;

function isRevisionConflict(error: unknown): boolean {
  const apiError = (error as { api_error?: { err_code?: number } }).api_error;
  return apiError?.err_code === WRONG_LAST_SEQUENCE || /wrong last sequence/i.test(String((error as Error)?.message ?? ''));
}

/**
 * Schedules in the JetStream KV bucket `troupe_schedules` (key = schedule id, value = JSON of
 * {@link ScheduleRecord}, parsed with zod on every read). Every write after `create` is a
 * compare-and-set on the revision read (`kv.update(key, value, revision)`), so concurrent writers (two
 * scheduler replicas, a gateway pausing) never overwrite each other: the loser reloads and retries.
 */
export class ScheduleStore {
  private constructor(
    private readonly kv: KV,
    private readonly js: JetStreamClient,
    private readonly bucket: string,
  ) {}

  /** Opens (creating if needed) the bucket, history 1. @throws Error from JetStream when it cannot. */
  static async open(nats: NatsConnection, bucket: string = SCHEDULES_BUCKET): Promise<ScheduleStore> {
    const js = nats.jetstream();
    return new ScheduleStore(await js.views.kv(bucket, { history: 1 }), js, bucket);
  }

  /** @throws ScheduleStoreError `SCHEDULE_UNREADABLE` when the stored value fails its schema. */
  async get(scheduleId: string): Promise<StoredSchedule | null> {
    const entry = await this.kv.get(scheduleId);
    if (entry === null || entry.operation !== 'PUT' || entry.value.length === 0) return null;
    let raw: unknown;
    try {
      raw = entry.json();
    } catch (error) {
      throw new ScheduleStoreError(`schedule ${scheduleId} is not JSON`, 'SCHEDULE_UNREADABLE', { cause: error });
    }
    const parsed = ScheduleRecord.safeParse(raw);
    if (!parsed.success) throw new ScheduleStoreError(`schedule ${scheduleId}: ${formatIssues(parsed.error).join('; ')}`, 'SCHEDULE_UNREADABLE');
    return { record: parsed.data, revision: entry.revision };
  }

  /** Every schedule id, sorted (a deleted one may be listed; {@link get} returns null for it). */
  async ids(): Promise<string[]> {
    return listKvKeys(this.js, this.bucket);
  }

  /** Every readable schedule, sorted by id (unreadable ones are reported in `unreadable`). */
  async list(): Promise<{ items: StoredSchedule[]; unreadable: string[] }> {
    const items: StoredSchedule[] = [];
    const unreadable: string[] = [];
    for (const id of await this.ids()) {
      try {
        const stored = await this.get(id);
        if (stored !== null) items.push(stored);
      } catch {
        unreadable.push(id);
      }
    }
    return { items, unreadable };
  }

  /** Writes a new schedule. @throws ScheduleStoreError `SCHEDULE_EXISTS` when the id is taken. */
  async create(record: ScheduleRecord): Promise<StoredSchedule> {
    const value = ScheduleRecord.parse(record);
    try {
      const revision = await this.kv.create(value.scheduleId, JSON.stringify(value));
      return { record: value, revision };
    } catch (error) {
      if (isRevisionConflict(error) || (await this.kv.get(value.scheduleId)) !== null) {
        throw new ScheduleStoreError(`schedule ${value.scheduleId} already exists`, 'SCHEDULE_EXISTS', { cause: error });
      }
      throw error;
    }
  }

  /**
   * Compare-and-set: writes `record` only if the schedule is still at `revision`. Returns the new
   * stored schedule, or null when another writer got there first (reload and decide again).
   */
  async update(record: ScheduleRecord, revision: number): Promise<StoredSchedule | null> {
    const value = ScheduleRecord.parse(record);
    try {
      return { record: value, revision: await this.kv.update(value.scheduleId, JSON.stringify(value), revision) };
    } catch (error) {
      if (isRevisionConflict(error)) return null;
      throw error;
    }
  }

  /**
   * Reads, changes with `change` and compare-and-sets until it wins (at most `attempts` times).
   *
   * @throws ScheduleStoreError `SCHEDULE_NOT_FOUND`; Error after `attempts` conflicts.
   */
  async modify(scheduleId: string, change: (record: ScheduleRecord) => ScheduleRecord, attempts = 10): Promise<StoredSchedule> {
    for (let attempt = 0; attempt < attempts; attempt += 1) {
      const stored = await this.get(scheduleId);
      if (stored === null) throw new ScheduleStoreError(`no schedule ${scheduleId}`, 'SCHEDULE_NOT_FOUND');
      const written = await this.update(change(stored.record), stored.revision);
      if (written !== null) return written;
    }
    throw new Error(`schedule ${scheduleId}: ${attempts} write conflicts in a row`);
  }
}
