import { Logger } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import { scheduledStartEventId, scheduledWorkflowId, workflowEventTypeSubject, type Envelope, type ScheduleRecord } from '@troupe/contracts';
import { publishEnvelope } from '../publisher';
import { nextTickOf } from './cron';
import { ScheduleStore, type StoredSchedule } from './schedule-store';

/** Options of {@link Scheduler}. */
export interface SchedulerOptions {
  /** A connected NATS client; the scheduler does not close it. */
  nats: NatsConnection;
  /** This replica's unique id (claims name it). */
  ownerId: string;
  /**
   * The start event type of a workflow type (from the workflow catalog), or null for a type this
   * process does not know: the tick is then not fired and the schedule records the error.
   */
  startEventType: (workflowType: string) => string | null;
  /** How often every schedule is checked, ms (default 250). */
  pollMs?: number;
  /** A claim older than this (its owner presumably died between claim and publish) is taken over, ms (default 10,000). */
  claimTimeoutMs?: number;
  /** Due ticks older than this are skipped, not fired (e.g. after every replica was down), ms (default 60,000). */
  catchUpMs?: number;
  now?: () => Date;
  /** Store to use (default: `ScheduleStore.open(nats)`). */
  store?: ScheduleStore;
}

/** What one pass over the schedules did, for logs and tests. */
export interface SchedulerPass {
  fired: Array<{ scheduleId: string; tick: string; workflowId: string }>;
  skipped: number;
}

/** Steps of one schedule's state per pass; each step is a read plus at most one compare-and-set. */
const MAX_STEPS_PER_SCHEDULE = 50;
/** Ticks counted one by one when skipping a long gap; past this the gap is jumped. */
const MAX_SKIPPED_COUNTED = 10_000;

/**
 * Fires cron schedules into workflows, the same on every orchestrator replica; a tick starts one
 * workflow however many replicas run:
 *
 * 1. A replica sees the schedule's next tick is due and compare-and-sets a claim `{ tick, ownerId }`
 *    on the schedule's KV revision. Only one replica's write succeeds; the others reload and see the claim.
 * 2. The claimant publishes the start event `<scheduleId>:<tickIso>` into workflow
 *    `<scheduleId>-<yyyymmddThhmmssZ>` with that id as `Nats-Msg-Id`, then compare-and-sets
 *    `lastFiredTick = tick, claim = null`.
 * 3. If the claimant dies between 1 and 2, another replica takes the claim over after
 *    `claimTimeoutMs` and publishes again: JetStream drops the repeat within its duplicate window,
 *    and the orchestrator drops an event id the workflow already applied, so the tick still starts one
 *    workflow.
 *
 * Paused schedules do not fire; ticks before `notBefore` (creation or resume time) never do; due ticks
 * older than `catchUpMs` are counted in `skippedCount` and not fired.
 */
export class Scheduler {
  private readonly log = new Logger('scheduler');
  private store: ScheduleStore | null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly pollMs: number;
  private readonly claimTimeoutMs: number;
  private readonly catchUpMs: number;
  private readonly now: () => Date;

  constructor(private readonly options: SchedulerOptions) {
    this.store = options.store ?? null;
    this.pollMs = options.pollMs ?? 250;
    this.claimTimeoutMs = options.claimTimeoutMs ?? 10_000;
    this.catchUpMs = options.catchUpMs ?? 60_000;
    this.now = options.now ?? (() => new Date());
  }

  /** Opens the store and starts polling. @throws Error from JetStream when the bucket cannot be opened. */
  async start(): Promise<void> {
    this.store ??= await ScheduleStore.open(this.options.nats);
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops polling and waits for a pass in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.runPass()
        .then(() => undefined)
        .catch((error: unknown) => this.log.warn(`scheduler pass failed: ${(error as Error).message}`))
        .finally(() => {
          this.running = null;
          this.schedule(this.pollMs);
        });
    }, delayMs);
  }

  /** One pass over every schedule: fires what is due. Exposed for tests. */
  async runPass(): Promise<SchedulerPass> {
    const store = this.store ?? (this.store = await ScheduleStore.open(this.options.nats));
    const pass: SchedulerPass = { fired: [], skipped: 0 };
    for (const scheduleId of await store.ids()) {
      try {
        await this.advance(store, scheduleId, pass);
      } catch (error) {
        this.log.warn(`schedule ${scheduleId}: ${(error as Error).message}`);
      }
    }
    return pass;
  }

  private async advance(store: ScheduleStore, scheduleId: string, pass: SchedulerPass): Promise<void> {
    for (let step = 0; step < MAX_STEPS_PER_SCHEDULE && !this.stopped; step += 1) {
      const stored = await store.get(scheduleId);
      if (stored === null) return;
      const { record } = stored;
      const now = this.now();
      if (record.claim !== null) {
        const mine = record.claim.ownerId === this.options.ownerId;
        if (!mine && now.getTime() - Date.parse(record.claim.claimedAt) < this.claimTimeoutMs) return;
        await this.fireClaimed(store, stored, pass);
        continue;
      }
      if (record.paused) return;
      const next = nextTickOf(record);
      if (next === null || next.getTime() > now.getTime()) return;
      if (now.getTime() - next.getTime() > this.catchUpMs) {
        await this.skipOld(store, stored, now, pass);
        continue;
      }
      // Claim the tick; losing the compare-and-set means another replica claimed (or someone paused): reload.
      await store.update({ ...record, claim: { tick: next.toISOString(), ownerId: this.options.ownerId, claimedAt: now.toISOString() }, updatedAt: now.toISOString() }, stored.revision);
    }
  }

  private async fireClaimed(store: ScheduleStore, stored: StoredSchedule, pass: SchedulerPass): Promise<void> {
    const { record } = stored;
    const tick = new Date(record.claim!.tick);
    const startEventType = this.options.startEventType(record.workflowType);
    const at = this.now().toISOString();
    if (startEventType === null) {
      // Nothing can be started for this type here: pause with the reason instead of retrying every pass.
      await store.update({ ...record, claim: null, paused: true, lastError: `unknown workflow type ${record.workflowType}; paused`, updatedAt: at }, stored.revision);
      return;
    }
    const workflowId = scheduledWorkflowId(record.scheduleId, tick);
    const envelope: Envelope = {
      id: scheduledStartEventId(record.scheduleId, tick),
      type: startEventType,
      workflowId,
      correlationId: workflowId,
      causationId: null,
      occurredAt: at,
      source: `scheduler/${record.scheduleId}`,
      payload: record.payload,
    };
    await publishEnvelope(this.options.nats.jetstream(), workflowEventTypeSubject(workflowId, envelope.type), envelope, { msgId: envelope.id });
    const written = await store.update(
      { ...record, claim: null, lastFiredTick: tick.toISOString(), firedCount: record.firedCount + 1, lastError: null, updatedAt: at },
      stored.revision,
    );
    if (written !== null) pass.fired.push({ scheduleId: record.scheduleId, tick: tick.toISOString(), workflowId });
  }

  private async skipOld(store: ScheduleStore, stored: StoredSchedule, now: Date, pass: SchedulerPass): Promise<void> {
    const { record } = stored;
    const horizon = now.getTime() - this.catchUpMs;
    let last: Date | null = null;
    let skipped = 0;
    let cursor: ScheduleRecord = record;
    for (;;) {
      const next = nextTickOf(cursor);
      if (next === null || next.getTime() >= horizon || skipped >= MAX_SKIPPED_COUNTED) break;
      last = next;
      skipped += 1;
      cursor = { ...cursor, lastFiredTick: next.toISOString() };
    }
    // Past the counting limit, jump straight to the horizon.
    const lastSkipped = skipped >= MAX_SKIPPED_COUNTED ? new Date(horizon - 1) : last;
    if (lastSkipped === null) return;
    const written = await store.update({ ...record, lastFiredTick: lastSkipped.toISOString(), skippedCount: record.skippedCount + skipped, updatedAt: now.toISOString() }, stored.revision);
    if (written !== null) {
      pass.skipped += skipped;
      this.log.warn(`schedule ${record.scheduleId}: skipped ${skipped} ticks older than the ${this.catchUpMs} ms catch-up window`);
    }
  }
}
