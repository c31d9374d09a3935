import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { publishEnvelope } from '@troupe/bus';
import {
  ALL_TIMERS,
  TIMER_FIRED,
  TimerScheduled,
  TroupeError,
  parseOrThrow,
  timerFiredEventId,
  workflowEventTypeSubject,
  type Envelope,
  type TimerFired,
} from '@troupe/contracts';
import type { JetStreamClient } from 'nats';

/** Injection token of what the timer service needs: the JetStream client and a clock. */
export const TIMER_PORTS = Symbol('TIMER_PORTS');

/** Ports of {@link TimersController}. */
export interface TimerPorts {
  js: JetStreamClient;
  now: () => Date;
}

/** The longest a not-yet-due timer is held back in one nak (ms), so clock corrections are noticed. */
export const MAX_TIMER_HOLD_MS = 60 * 60 * 1_000;

/** A timer is not due yet: the transport naks it with exactly `retryAfterMs` and does not log it. */
export class TimerNotDueError extends TroupeError {
  readonly retryAfterMs: number;

  constructor(timerId: string, remainingMs: number) {
    super('TIMER_NOT_DUE', `timer ${timerId} is due in ${remainingMs} ms`, { retryable: true });
    this.retryAfterMs = Math.min(remainingMs, MAX_TIMER_HOLD_MS);
  }
}

/**
 * The durable timer service. Each `timer.scheduled` message on `troupe.timer.<partition>` stays in the
 * TIMERS work queue, held back by nak with its remaining delay, until it is due; then `timer.fired` is
 * published into its workflow (id and `Nats-Msg-Id` `<timerId>:fired`, so firing twice after a crash is
 * deduplicated, and the workflow applies a firing once in any case) and the message is acked. Timers
 * survive restarts of every process because they live in the stream, not in memory.
 *
 * Known limit: a held-back message counts against the consumer's `max_ack_pending` (100,000), which
 * bounds the number of timers waiting at once; nats-server 2.12 message scheduling would lift it.
 */
@Controller()
export class TimersController {
  constructor(@Inject(TIMER_PORTS) private readonly ports: TimerPorts) {}

  @EventPattern(ALL_TIMERS)
  async fire(@Payload() envelope: Envelope): Promise<'fired'> {
    const timer = parseOrThrow(TimerScheduled, envelope.payload, `${envelope.type} payload`);
    const remainingMs = Date.parse(timer.dueAt) - this.ports.now().getTime();
    if (remainingMs > 0) throw new TimerNotDueError(timer.timerId, remainingMs);
    const id = timerFiredEventId(timer.timerId);
    const fired: TimerFired = { timerId: timer.timerId, sendId: timer.sendId, dueAt: timer.dueAt, event: timer.event };
    await publishEnvelope(
      this.ports.js,
      workflowEventTypeSubject(timer.workflowId, TIMER_FIRED),
      {
        id,
        type: TIMER_FIRED,
        workflowId: timer.workflowId,
        correlationId: envelope.correlationId,
        causationId: envelope.id,
        occurredAt: this.ports.now().toISOString(),
        source: 'orchestrator/timers',
        payload: fired,
      },
      { msgId: id },
    );
    return 'fired';
  }
}
