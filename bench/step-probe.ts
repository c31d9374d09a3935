import type { JsMsg } from 'nats';
import type { OutboxPublisher } from '@troupe/actor-runtime';
import type { Journal, SnapshotStore, WorkflowRecord } from '@troupe/persistence';
import { deferred, nowMs, sampleCpu, type CpuSample, type Deferred } from './measure';

/**
 * Where a durable step spends its wall time, in the order the runtime and the transport do things.
 * Each phase runs from the end of the previous mark to its own end mark, so the phases of one step add
 * up to its time from handler entry to the ack handed to the connection.
 */
export const PHASES = [
  /** Handler entry → KV write starts: cache lookup (or store load), payload parse, XState transition, record build. */
  'transition',
  /** Snapshot + outbox + pending journal written (JSON encode + KV compare-and-set). */
  'persist',
  /** Journal entry appended and outbox published (effect + change-feed message), all in parallel, each with msgID. */
  'flush',
  /** `handle` resolved → back through Nest and the transport → ack handed to the connection. */
  'handoff',
  /** `ack()` (fire-and-forget: the transport does not wait for the server's confirmation). */
  'ack',
] as const;
export type Phase = (typeof PHASES)[number];

/** Mean and total milliseconds per phase over the steps a probe saw. */
export interface PhaseBreakdown {
  steps: number;
  meanMs: Record<Phase, number>;
  /** Mean time from handler entry to the ack handed to the connection. */
  stepMeanMs: number;
}

interface Timeline {
  marks: Partial<Record<Phase, number>>;
  start: number;
}

/**
 * A measurement probe around one {@link ActorRuntime}: it wraps the store, journal and publisher the
 * runtime gets and the ack of each inbound message, timestamps each phase of every step (keyed by
 * workflow id: the runtime applies one event per workflow at a time), and counts acks so a
 * bench can wait for them. Overhead: a few `performance.now()` calls and map operations per step.
 */
export class StepProbe {
  private readonly open = new Map<string, Timeline>();
  private readonly totals = Object.fromEntries(PHASES.map((phase) => [phase, 0])) as Record<Phase, number>;
  private readonly ackWaiters = new Map<string, Deferred<number>>();
  private steps = 0;
  private stepTotalMs = 0;
  private countWaiter: { target: number; done: Deferred<number> } | null = null;
  acked = 0;
  /** When each ack was sent (`nowMs`), in order. */
  readonly ackTimes: number[] = [];
  /** CPU samples taken when the ack count reached each key (see {@link sampleCpuAtAcks}). */
  readonly cpuAtAcks = new Map<number, CpuSample>();
  private cpuAtAcksWanted = new Set<number>();
  private cpuOtherPid: number | undefined;
  /** Hears of every record the store confirmed, with the time (`nowMs`); e.g. to time an approval to its next state. */
  onSaved: ((record: WorkflowRecord, at: number) => void) | null = null;
  firstAckAt = 0;
  lastAckAt = 0;

  /** Samples CPU (this process and `otherPid`) when the ack count reaches each of `counts`, to cost a window of steps. */
  sampleCpuAtAcks(counts: number[], otherPid?: number): void {
    this.cpuAtAcksWanted = new Set(counts);
    this.cpuOtherPid = otherPid;
  }

  /** Forgets the phase totals (steps in flight count in the next period); ack counts go on. */
  resetPhases(): void {
    for (const phase of PHASES) this.totals[phase] = 0;
    this.steps = 0;
    this.stepTotalMs = 0;
  }

  /**
   * Called at handler entry with the inbound message; taps its ack to time and count it. The transport
   * acks with `ack()` (fire-and-forget), so the ack counts when it is handed to the connection.
   */
  received(workflowId: string, eventId: string, message: JsMsg): void {
    const start = nowMs();
    this.open.set(workflowId, { marks: {}, start });
    const ack = message.ack.bind(message);
    message.ack = () => {
      this.mark(workflowId, 'handoff');
      ack();
      this.mark(workflowId, 'ack');
      this.finish(workflowId, eventId);
    };
  }

  /** Resolves with the time (`nowMs`) the ack of `eventId` was sent. */
  ackOf(eventId: string): Promise<number> {
    const waiter = deferred<number>();
    this.ackWaiters.set(eventId, waiter);
    return waiter.promise;
  }

  /** Resolves with the time (`nowMs`) of the `target`-th ack. */
  acks(target: number): Promise<number> {
    const done = deferred<number>();
    if (this.acked >= target) done.resolve(this.lastAckAt);
    else this.countWaiter = { target, done };
    return done.promise;
  }

  breakdown(): PhaseBreakdown {
    const meanMs = Object.fromEntries(PHASES.map((phase) => [phase, this.steps === 0 ? 0 : this.totals[phase] / this.steps])) as Record<Phase, number>;
    return { steps: this.steps, meanMs, stepMeanMs: this.steps === 0 ? 0 : this.stepTotalMs / this.steps };
  }

  /** The store as the runtime should see it; `onSaved` (if set) hears of every record once its write is confirmed. */
  wrapStore(store: SnapshotStore): SnapshotStore {
    return {
      load: (workflowId) => store.load(workflowId),
      list: (query) => store.list(query),
      save: async (record, expectedVersion) => {
        this.mark(record.workflowId, 'transition');
        await store.save(record, expectedVersion);
        this.mark(record.workflowId, 'persist');
        this.onSaved?.(record, nowMs());
      },
    };
  }

  wrapJournal(journal: Journal): Journal {
    return {
      read: (workflowId) => journal.read(workflowId),
      append: async (entry) => {
        await journal.append(entry);
        this.mark(entry.workflowId, 'flush');
      },
    };
  }

  /** Marks `flush` at the end of each message; the last of the journal append and the publishes wins (they run in parallel). */
  wrapPublisher(publish: OutboxPublisher): OutboxPublisher {
    return async (message) => {
      await publish(message);
      this.mark(message.envelope.workflowId, 'flush');
    };
  }

  private mark(workflowId: string, phase: Phase): void {
    const timeline = this.open.get(workflowId);
    if (timeline === undefined) return;
    timeline.marks[phase] = nowMs();
  }

  private finish(workflowId: string, eventId: string): void {
    const timeline = this.open.get(workflowId);
    const at = nowMs();
    if (timeline !== undefined) {
      this.open.delete(workflowId);
      let previous = timeline.start;
      for (const phase of PHASES) {
        const end = timeline.marks[phase];
        if (end === undefined) continue;
        this.totals[phase] += end - previous;
        previous = end;
      }
      this.steps += 1;
      this.stepTotalMs += at - timeline.start;
    }
    this.acked += 1;
    this.ackTimes.push(at);
    if (this.cpuAtAcksWanted.has(this.acked)) this.cpuAtAcks.set(this.acked, sampleCpu(this.cpuOtherPid));
    if (this.firstAckAt === 0) this.firstAckAt = at;
    this.lastAckAt = at;
    const waiter = this.ackWaiters.get(eventId);
    if (waiter !== undefined) {
      this.ackWaiters.delete(eventId);
      waiter.resolve(at);
    }
    if (this.countWaiter !== null && this.acked >= this.countWaiter.target) {
      this.countWaiter.done.resolve(at);
      this.countWaiter = null;
    }
  }
}
