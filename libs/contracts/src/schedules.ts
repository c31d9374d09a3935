import { z } from 'zod';
import { WorkflowId } from './envelope';

/**
 * Scheduled workflows: a cron pattern that starts instances of a workflow type. Schedules live in the
 * JetStream KV bucket {@link SCHEDULES_BUCKET} (key = schedule id), so they survive restarts; every
 * orchestrator replica runs the scheduler, and a tick fires once across replicas because a replica
 * must win a compare-and-set on the schedule's revision to claim it, and the start event of a tick has
 * the deterministic id {@link scheduledStartEventId} (deduplicated by JetStream's `Nats-Msg-Id` and by
 * the workflow's applied event ids).
 */

/** JetStream KV bucket of schedules, key = schedule id. */
export const SCHEDULES_BUCKET = 'troupe_schedules';

/** A schedule id: also the prefix of the workflow ids it starts, so at most 100 characters of [A-Za-z0-9_-]. */
export const ScheduleId = z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'must be 1-100 characters of [A-Za-z0-9_-]');
export type ScheduleId = z.infer<typeof ScheduleId>;

/** A tick claimed by a replica whose start event is not yet confirmed published. */
export const ScheduleClaim = z.object({
  tick: z.iso.datetime({ offset: true }),
  ownerId: z.string().min(1).max(256),
  claimedAt: z.iso.datetime({ offset: true }),
});
export type ScheduleClaim = z.infer<typeof ScheduleClaim>;

/**
 * A schedule as stored. `cron` is a 5- or 6-field pattern (seconds first when 6) as croner reads it,
 * evaluated in `timezone` (IANA name; UTC by default). Ticks before `notBefore` never fire (set at
 * creation and on resume, so a paused schedule does not catch up); `stopAt` (exclusive) ends it.
 * `lastFiredTick` is the latest tick whose start event was published.
 */
export const ScheduleRecord = z.object({
  scheduleId: ScheduleId,
  cron: z.string().min(1).max(256),
  timezone: z.string().min(1).max(64).default('UTC'),
  workflowType: z.string().min(1).max(128),
  payload: z.record(z.string(), z.unknown()),
  paused: z.boolean(),
  notBefore: z.iso.datetime({ offset: true }),
  stopAt: z.iso.datetime({ offset: true }).nullable(),
  lastFiredTick: z.iso.datetime({ offset: true }).nullable(),
  firedCount: z.number().int().nonnegative(),
  /** Ticks not fired because they were older than the catch-up window when a scheduler saw them. */
  skippedCount: z.number().int().nonnegative(),
  claim: ScheduleClaim.nullable(),
  /** Why the scheduler could not start the last tick (e.g. an unknown workflow type); null when it could. */
  lastError: z.string().max(4_000).nullable(),
  createdBy: z.string().min(1).max(256),
  createdAt: z.iso.datetime({ offset: true }),
  updatedAt: z.iso.datetime({ offset: true }),
});
export type ScheduleRecord = z.infer<typeof ScheduleRecord>;

/**
 * The workflow id a schedule's tick starts: `<scheduleId>-<tick as yyyymmddThhmmssZ>` (UTC), e.g.
 * `nightly-20261201T020000Z`. Ticks are whole seconds (croner's resolution).
 */
export function scheduledWorkflowId(scheduleId: string, tick: Date): string {
  return `${scheduleId}-${tick.toISOString().slice(0, 19).replace(/[-:]/g, '')}Z`;
}

/** The id (and `Nats-Msg-Id`) of the start event of one tick: `<scheduleId>:<tick ISO-8601>`. */
export function scheduledStartEventId(scheduleId: string, tick: Date): string {
  return `${scheduleId}:${tick.toISOString()}`;
}

/** Body of `POST /schedules`. `startAt` (default now) and `stopAt` bound the ticks: `startAt` inclusive, `stopAt` exclusive. */
export const CreateScheduleBody = z.object({
  scheduleId: ScheduleId,
  cron: z.string().min(1).max(256),
  timezone: z.string().min(1).max(64).optional(),
  workflowType: z.string().min(1).max(128),
  payload: z.record(z.string(), z.unknown()),
  startAt: z.iso.datetime({ offset: true }).optional(),
  stopAt: z.iso.datetime({ offset: true }).optional(),
  paused: z.boolean().optional(),
});
export type CreateScheduleBody = z.infer<typeof CreateScheduleBody>;

/** A schedule over HTTP: the record, its next tick (null when paused or ended) and a workflow id it would start. */
export const ScheduleView = ScheduleRecord.extend({
  nextTick: z.iso.datetime({ offset: true }).nullable(),
  nextWorkflowId: WorkflowId.nullable(),
});
export type ScheduleView = z.infer<typeof ScheduleView>;

/** `GET /schedules`: every schedule, sorted by id; `unreadable` names stored entries that fail {@link ScheduleRecord} (never fired). */
export const SchedulePage = z.object({ items: z.array(ScheduleView), unreadable: z.array(z.string()) });
export type SchedulePage = z.infer<typeof SchedulePage>;
