import { Logger } from '@nestjs/common';
import { CustomTransportStrategy, Server, type MessageHandler } from '@nestjs/microservices';
import type { JsMsg, NatsConnection, JetStreamClient, ConsumerMessages, JetStreamManager } from 'nats';
import { isObservable, lastValueFrom } from 'rxjs';
import {
  decodeEnvelope,
  isNonRetryable,
  subjectMismatch,
  type ConsumerDefinition,
  type Envelope,
} from '@troupe/contracts';
import {
  TROUPE_ATTRIBUTES,
  describeConsumedEnvelope,
  markSpanFailed,
  observeConsumerLag,
  recordDeadLetter,
  withConsumeSpan,
  type ConsumerLagSample,
  type Span,
} from '@troupe/telemetry';
import { publishDeadLetter } from './dead-letter';
import { provisionConsumer } from './provisioning';

/** What an `@EventPattern` handler receives as its second argument (`@Ctx()`). */
export class JetStreamContext {
  constructor(
    /** The raw JetStream message (headers, subject, delivery info). */
    readonly message: JsMsg,
    /** The consumer definition the message arrived through. */
    readonly consumer: ConsumerDefinition,
  ) {}

  /** 1 on first delivery, then 2, 3, … */
  get deliveryCount(): number {
    return this.message.info.redeliveryCount;
  }
}

/** Options of {@link JetStreamServer}. */
export interface JetStreamServerOptions {
  /** A connected NATS client; the server does not close it. */
  connection: NatsConnection;
  /**
   * Durable pull consumers consumed from `listen()` until `close()`, one per handler; the handler's
   * `@EventPattern` is the consumer's `filterSubject`. More can be added and removed at run time with
   * {@link JetStreamServer.startConsumer} and {@link JetStreamServer.stopConsumer}.
   */
  consumers: ConsumerDefinition[];
  /**
   * Maximum handler calls in flight per handler pattern (default 32), shared by every consumer serving
   * that pattern; each consumer pulls at most this many messages ahead.
   */
  concurrency?: number;
}

/** How {@link JetStreamServer.startConsumer} serves a consumer. */
export interface StartConsumerOptions {
  /**
   * The `@EventPattern` whose handler receives the consumer's messages (default: the consumer's
   * `filterSubject`). Several consumers may serve one pattern, e.g. one per partition with
   * `troupe.wf.*.*`; they share the pattern's concurrency limit.
   */
  pattern?: string;
  /**
   * Names the dead-letter subject `troupe.dlq.<origin>` of this consumer's poison messages (default: the
   * consumer's durable name), so the consumers of one role can share one, e.g. `orchestrator`.
   */
  deadLetterOrigin?: string;
}

/** Counters of what the server did with messages, for tests and metrics. */
export interface JetStreamServerCounters {
  acked: number;
  naked: number;
  deadLettered: number;
}

/** A consumer being pulled from, with its loop and the handler calls it has in flight. */
interface ActiveConsumer {
  definition: ConsumerDefinition;
  pattern: string;
  /**
   * The pattern's handler, looked up once when the consumer starts: Nest's lookup tries `JSON.parse`
   * on the pattern (which throws for `troupe.wf.*.*`), 3 % of a durable step when done per message.
   */
  handler: MessageHandler;
  deadLetterOrigin: string;
  messages: ConsumerMessages;
  loop: Promise<void>;
  inFlight: Set<Promise<void>>;
  stopping: boolean;
  stopped: Promise<void> | null;
  /** Messages pulled but handed back (naked) because the consumer was stopping. */
  returned: number;
}

/**
 * NestJS transport over JetStream durable pull consumers (`CustomTransportStrategy`), so apps use
 * `@EventPattern(subjectFilter)` handlers. The consumers of `options.consumers` run from `listen()` to
 * `close()`; others can be started and stopped at run time (one per owned partition, say) and serve
 * the handler of any pattern. Per message:
 *
 * 1. The body is parsed as an {@link Envelope}; one that fails is dead-lettered and terminated at once,
 *    and so is one whose type does not belong on its subject (`SUBJECT_MISMATCH`, see `subjectMismatch`
 *    of @troupe/contracts: a workflow event on another type's or workflow's subject, anything but
 *    `agent.task_requested` on an agent task queue, anything but its kind's type on an effect queue).
 * 2. The handler runs with the envelope and a {@link JetStreamContext}; while it runs, an in-progress ack
 *    is sent every half `ackWaitMs` so a slow handler (a model call) is not redelivered under it.
 * 3. Success: the message is acked (fire-and-forget: a lost ack means a redelivery, which the actor's applied-ids window turns into a duplicate; confirming each ack cost 13 % of a durable step).
 * 4. An error carrying a numeric `retryAfterMs` (e.g. a timer not yet due) is naked with exactly that
 *    delay and not logged. A non-retryable error (`TroupeError` with `retryable: false`, e.g. a payload
 *    failing its schema), or a retryable one on the last allowed delivery (`maxDeliver` -1: never): the
 *    message is published to `troupe.dlq.<durable>` (or the consumer's `deadLetterOrigin`) with the
 *    reason, then terminated. Anything else: nak with the consumer's backoff delay.
 *
 * Each message is handled inside a CONSUMER span `process <pattern>` that continues the producer's
 * trace from the W3C headers (@troupe/telemetry), with the outcome (ack, nak, dead letter); dead
 * letters are counted (`troupe.dead_letters`) and consumer lag is sampled (`troupe.consumer.lag`).
 *
 * Handler errors reach the server intact only with {@link PreserveErrorsFilter} installed (Nest's
 * default RPC filter replaces them with a generic message).
 */
export class JetStreamServer extends Server implements CustomTransportStrategy {
  private readonly log = new Logger(JetStreamServer.name);
  private readonly js: JetStreamClient;
  private readonly active = new Map<string, ActiveConsumer>();
  private readonly starting = new Map<string, Promise<void>>();
  private readonly limits = new Map<string, InFlightLimit>();
  private closing = false;
  private jsm: JetStreamManager | null = null;
  readonly counters: JetStreamServerCounters = { acked: 0, naked: 0, deadLettered: 0 };

  constructor(private readonly options: JetStreamServerOptions) {
    super();
    this.js = options.connection.jetstream();
    observeConsumerLag(this);
  }

  /**
   * The lag of every consumer being pulled from: `num_pending` of its consumer info (messages in the
   * stream not yet delivered to it). Asks the server once per consumer; the `troupe.consumer.lag`
   * gauge calls it at each metric collection.
   */
  async sampleLag(): Promise<ConsumerLagSample[]> {
    const consumers = [...this.active.values()].filter((active) => !active.stopping).map((active) => active.definition);
    if (consumers.length === 0) return [];
    this.jsm ??= await this.options.connection.jetstreamManager();
    const jsm = this.jsm;
    const samples = await Promise.all(
      consumers.map(async (consumer) => {
        try {
          const info = await jsm.consumers.info(consumer.stream, consumer.durable);
          return [{ consumer: consumer.durable, stream: consumer.stream, pending: info.num_pending }];
        } catch {
          return [];
        }
      }),
    );
    return samples.flat();
  }

  async listen(callback: (...optionalParams: unknown[]) => unknown): Promise<void> {
    try {
      for (const consumer of this.options.consumers) await this.startConsumer(consumer);
      callback();
    } catch (error) {
      callback(error);
    }
  }

  /**
   * Provisions `consumer` (create or update, see {@link provisionConsumer}) and starts pulling from it,
   * serving its messages with the handler of `options.pattern`. Resolves once pulling has started; a
   * consumer already running is left as it is, one being stopped is started again after the stop.
   *
   * @throws Error when no `@EventPattern` handler matches the pattern, when the server is closing, or
   *   from JetStream when the consumer cannot be provisioned.
   */
  async startConsumer(consumer: ConsumerDefinition, options: StartConsumerOptions = {}): Promise<void> {
    const pending = this.starting.get(consumer.durable);
    if (pending !== undefined) return pending;
    const start = this.doStartConsumer(consumer, options.pattern ?? consumer.filterSubject, options.deadLetterOrigin ?? consumer.durable).finally(() =>
      this.starting.delete(consumer.durable),
    );
    this.starting.set(consumer.durable, start);
    return start;
  }

  /**
   * Stops pulling from the consumer named `durable`: messages already pulled but not yet handed to the
   * handler are naked with a 1 ms delay (so whoever consumes it next gets them at once), and the promise
   * resolves when the handler calls in flight have finished (acked, naked or dead-lettered). A consumer
   * not running is a no-op. The durable consumer itself stays on the server.
   */
  async stopConsumer(durable: string): Promise<void> {
    // Only wait when a start is pending: otherwise mark the consumer stopping before anything else runs.
    const pending = this.starting.get(durable);
    if (pending !== undefined) await pending.catch(() => undefined);
    const active = this.active.get(durable);
    if (active === undefined) return;
    if (active.stopped === null) {
      active.stopping = true;
      active.messages.stop();
      this.limitFor(active.pattern).wake();
      active.stopped = (async () => {
        await active.loop;
        if (active.returned > 0) {
          // Let the server take the naks and their delay pass, so whoever pulls next (this process
          // included) gets the returned messages first, in order.
          await this.options.connection.flush().catch(() => undefined);
          await new Promise((resolve) => setTimeout(resolve, HANDOVER_NAK_DELAY_MS * 10));
        }
        await Promise.allSettled([...active.inFlight]);
        if (this.active.get(durable) === active) this.active.delete(durable);
      })();
    }
    await active.stopped;
  }

  /** Durable names of the consumers being pulled from, in start order. */
  consumerNames(): string[] {
    return [...this.active.values()].filter((active) => !active.stopping).map((active) => active.definition.durable);
  }

  /** Stops every consumer (see {@link stopConsumer}) and waits for the handler calls in flight to finish. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.allSettled([...this.starting.values()]);
    await Promise.all([...this.active.keys()].map((durable) => this.stopConsumer(durable)));
  }

  on(): never {
    throw new Error('JetStreamServer does not emit transport events');
  }

  unwrap<T>(): T {
    return this.options.connection as T;
  }

  private async doStartConsumer(consumer: ConsumerDefinition, pattern: string, deadLetterOrigin: string): Promise<void> {
    const previous = this.active.get(consumer.durable);
    if (previous !== undefined && !previous.stopping) return;
    // Not stopConsumer(): it waits for this very start.
    if (previous !== undefined) await previous.stopped;
    if (this.closing) throw new Error(`cannot start consumer ${consumer.durable}: the server is closing`);
    const handler = this.getHandlerByPattern(pattern);
    if (handler === null) {
      throw new Error(`no @EventPattern('${pattern}') handler for consumer ${consumer.durable}`);
    }
    await provisionConsumer(await this.options.connection.jetstreamManager(), consumer);
    const messages = await (await this.js.consumers.get(consumer.stream, consumer.durable)).consume({
      max_messages: this.options.concurrency ?? 32,
    });
    const active: ActiveConsumer = { definition: consumer, pattern, handler, deadLetterOrigin, messages, loop: Promise.resolve(), inFlight: new Set(), stopping: false, stopped: null, returned: 0 };
    active.loop = this.run(active).catch((error: unknown) => {
      this.log.error(`${consumer.durable}: consumer loop ended: ${(error as Error)?.message ?? String(error)}`);
    });
    this.active.set(consumer.durable, active);
  }

  private limitFor(pattern: string): InFlightLimit {
    let limit = this.limits.get(pattern);
    if (limit === undefined) {
      limit = new InFlightLimit(this.options.concurrency ?? 32);
      this.limits.set(pattern, limit);
    }
    return limit;
  }

  private async run(active: ActiveConsumer): Promise<void> {
    const limit = this.limitFor(active.pattern);
    for await (const message of active.messages) {
      if (active.stopping || !(await limit.acquire(() => active.stopping))) {
        message.nak(HANDOVER_NAK_DELAY_MS);
        active.returned += 1;
        continue;
      }
      const task = this.handle(active, message).finally(() => {
        active.inFlight.delete(task);
        limit.release();
      });
      active.inFlight.add(task);
    }
  }

  private handle(active: ActiveConsumer, message: JsMsg): Promise<void> {
    return withConsumeSpan(
      {
        subject: message.subject,
        pattern: active.pattern,
        consumer: active.definition.durable,
        stream: message.info.stream,
        deliveryCount: message.info.redeliveryCount,
        headers: message.headers,
      },
      (span) => this.handleInSpan(active, message, span),
    );
  }

  private async handleInSpan(active: ActiveConsumer, message: JsMsg, span: Span): Promise<void> {
    const consumer = active.definition;
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(message.data);
    } catch (error) {
      await this.deadLetter(active, message, error, span);
      return;
    }
    describeConsumedEnvelope(span, envelope);
    // An envelope on a subject not its own (another type's, workflow's or queue's) is never handed over.
    const mismatch = subjectMismatch(message.subject, envelope);
    if (mismatch !== null) {
      await this.deadLetter(active, message, mismatch, span);
      return;
    }
    const handler = active.handler;
    const heartbeat = setInterval(() => message.working(), Math.max(1_000, Math.floor(consumer.ackWaitMs / 2)));
    try {
      const result = await handler(envelope, new JetStreamContext(message, consumer));
      if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
      clearInterval(heartbeat);
      message.ack();
      this.counters.acked += 1;
      span.setAttribute(TROUPE_ATTRIBUTES.messageOutcome, 'ack');
    } catch (error) {
      clearInterval(heartbeat);
      const lastDelivery = consumer.maxDeliver > 0 && message.info.redeliveryCount >= consumer.maxDeliver;
      if (isNonRetryable(error) || lastDelivery) {
        await this.deadLetter(active, message, error, span);
      } else {
        const delayMs = retryAfterMsOf(error) ?? consumer.backoffMs[Math.min(message.info.redeliveryCount - 1, consumer.backoffMs.length - 1)] ?? 1_000;
        if (retryAfterMsOf(error) === undefined) this.log.warn(
          `${consumer.durable}: ${message.subject} delivery ${message.info.redeliveryCount}/${consumer.maxDeliver} failed, retry in ${delayMs} ms: ${(error as Error)?.message ?? String(error)}`,
        );
        message.nak(delayMs);
        this.counters.naked += 1;
        span.setAttribute(TROUPE_ATTRIBUTES.messageOutcome, 'nak');
        // A timer held back until due is not a failure.
        if (retryAfterMsOf(error) === undefined) markSpanFailed(span, error);
      }
    }
  }

  private async deadLetter(active: ActiveConsumer, message: JsMsg, error: unknown, span: Span): Promise<void> {
    const consumer = active.definition;
    markSpanFailed(span, error);
    try {
      await publishDeadLetter(this.js, {
        origin: active.deadLetterOrigin,
        stream: message.info.stream,
        subject: message.subject,
        streamSequence: message.info.streamSequence,
        deliveryCount: message.info.redeliveryCount,
        headers: message.headers,
        data: message.data,
        error,
      });
      // No reason: nats-server before 2.10.4 ignores `+TERM <reason>`, so the message stayed pending and
      // was redelivered and dead-lettered again after every ack wait (found by test/e2e/bus-fuzz).
      message.term();
      this.counters.deadLettered += 1;
      span.setAttribute(TROUPE_ATTRIBUTES.messageOutcome, 'dead_letter');
      recordDeadLetter(active.deadLetterOrigin, errorCodeOf(error));
      this.log.warn(`${consumer.durable}: ${message.subject} dead-lettered: ${(error as Error)?.message ?? String(error)}`);
    } catch (publishError) {
      // Never drop a message: if the dead letter cannot be written, leave the original for redelivery.
      this.log.error(`${consumer.durable}: dead letter failed, will retry: ${(publishError as Error).message}`);
      message.nak(5_000);
      span.setAttribute(TROUPE_ATTRIBUTES.messageOutcome, 'nak');
    }
  }
}

/**
 * Delay of the nak that returns a message pulled but never handled (the consumer is stopping), ms. Not
 * 0: nats-server 2.9 answers an undelayed nak of the last delivered messages by rewinding the consumer
 * and delivering them twice (and one of them only after the ack wait); a delayed nak redelivers each
 * once, in order, to whoever pulls next.
 */
const HANDOVER_NAK_DELAY_MS = 1;

/** The stable code of an error (a Troupe error's `code`), else `HANDLER_FAILED`, as dead letters record it. */
function errorCodeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code !== '' ? code : 'HANDLER_FAILED';
}

/** The delay a retryable error asks for (`retryAfterMs`, ms), if any. */
function retryAfterMsOf(error: unknown): number | undefined {
  const value = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/**
 * A counting limit on handler calls in flight, shared by the consumers of one pattern. Waiters are
 * woken on every release (and by `wake()` when a consumer stops), then check again.
 */
class InFlightLimit {
  private inUse = 0;
  private waiters: Array<() => void> = [];

  constructor(private readonly max: number) {}

  /** Takes a slot, waiting for one if needed; false (no slot taken) once `cancelled()` holds. */
  async acquire(cancelled: () => boolean): Promise<boolean> {
    while (this.inUse >= this.max) {
      if (cancelled()) return false;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (cancelled()) return false;
    this.inUse += 1;
    return true;
  }

  release(): void {
    this.inUse -= 1;
    this.wake();
  }

  /** Wakes every waiter so it checks for a free slot or its cancellation. */
  wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
