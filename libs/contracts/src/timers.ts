import { z } from 'zod';
import { WorkflowId } from './envelope';

/**
 * Durable timers. XState v5 does not restore `after` delays from a persisted snapshot (statelyai/xstate
 * issue 5331), so the actor runtime owns every delay: a delayed event a machine schedules becomes a
 * `timer.scheduled` message on `troupe.timer.<partition>` (stream TIMERS) written through the outbox;
 * the timer consumer holds it back (nak with the remaining delay) until it is due, then publishes
 * `timer.fired` into the workflow. The workflow applies a firing only while the timer is still active
 * in its snapshot document, so a timer cancelled by leaving its state never fires into the actor.
 */

/** The delayed event a machine scheduled, e.g. `{ type: 'xstate.after.approvalTimeout.email-triage.awaitingApproval' }`. */
export const DelayedEvent = z.looseObject({ type: z.string().min(1).max(512) });
export type DelayedEvent = z.infer<typeof DelayedEvent>;

/** `timer.scheduled`: a durable timer, deduplicated by `timerId`. `dueAt` is ISO-8601 UTC. */
export const TIMER_SCHEDULED = 'timer.scheduled';
export const TimerScheduled = z.object({
  /** `<workflowId>:<version>:timer:<sendId>`: unique per scheduling. */
  timerId: z.string().min(1).max(1_024),
  workflowId: WorkflowId,
  /** The machine's id for the delayed send (XState's `sendId`); a cancel names it. */
  sendId: z.string().min(1).max(512),
  dueAt: z.iso.datetime({ offset: true }),
  event: DelayedEvent,
});
export type TimerScheduled = z.infer<typeof TimerScheduled>;

/** `timer.fired`: a due timer, published into the workflow with id `<timerId>:fired`. */
export const TIMER_FIRED = 'timer.fired';
export const TimerFired = TimerScheduled.omit({ workflowId: true });
export type TimerFired = z.infer<typeof TimerFired>;

/** The event id of a timer's firing (also its `Nats-Msg-Id`): one firing per timer. */
export function timerFiredEventId(timerId: string): string {
  return `${timerId}:fired`;
}
