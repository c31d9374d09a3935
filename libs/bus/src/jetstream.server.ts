import { Logger } from '@nestjs/common';
import { CustomTransportStrategy, Server } from '@nestjs/microservices';
import type { JsMsg, NatsConnection, JetStreamClient, ConsumerMessages } from 'nats';
import { isObservable, lastValueFrom } from 'rxjs';
import {
  SchemaValidationError,
  decodeEnvelope,
  isNonRetryable,
  type ConsumerDefinition,
  type Envelope,
} from '@troupe/contracts';
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
  /** One durable pull consumer per handler; the handler's `@EventPattern` is the consumer's `filterSubject`. */
  consumers: ConsumerDefinition[];
  /** Maximum handler calls in flight per consumer (default 32). Messages are pulled no faster than this. */
  concurrency?: number;
}

/** Counters of what the server did with messages, for tests and metrics. */
export interface JetStreamServerCounters {
  acked: number;
  naked: number;
  deadLettered: number;
}

/**
 * NestJS transport over JetStream durable pull consumers (`CustomTransportStrategy`), so apps use
 * `@EventPattern(subjectFilter)` handlers. Per message:
 *
 * 1. The body is parsed as an {@link Envelope}; one that fails is dead-lettered and terminated at once.
 * 2. The handler runs with the envelope and a {@link JetStreamContext}; while it runs, an in-progress ack
 *    is sent every half `ackWaitMs` so a slow handler (a model call) is not redelivered under it.
 * 3. Success: the message is acked (double-acked, waiting for the server's confirmation).
 * 4. An error carrying a numeric `retryAfterMs` (e.g. a timer not yet due) is naked with exactly that
 *    delay and not logged. A non-retryable error (`TroupeError` with `retryable: false`, e.g. a payload failing its schema), or
 *    a retryable one on the last allowed delivery: the message is published to `troupe.dlq.<durable>`
 *    with the reason, then terminated. Anything else: nak with the consumer's backoff delay.
 *
 * Handler errors reach the server intact only with {@link PreserveErrorsFilter} installed (Nest's
 * default RPC filter replaces them with a generic message).
 */
export class JetStreamServer extends Server implements CustomTransportStrategy {
  private readonly log = new Logger(JetStreamServer.name);
  private readonly js: JetStreamClient;
  private readonly subscriptions: ConsumerMessages[] = [];
  private readonly loops: Promise<void>[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private closing = false;
  readonly counters: JetStreamServerCounters = { acked: 0, naked: 0, deadLettered: 0 };

  constructor(private readonly options: JetStreamServerOptions) {
    super();
    this.js = options.connection.jetstream();
  }

  async listen(callback: (...optionalParams: unknown[]) => unknown): Promise<void> {
    try {
      const jsm = await this.options.connection.jetstreamManager();
      for (const consumer of this.options.consumers) {
        const handler = this.getHandlerByPattern(consumer.filterSubject);
        if (handler === null) {
          throw new Error(`no @EventPattern('${consumer.filterSubject}') handler for consumer ${consumer.durable}`);
        }
        await provisionConsumer(jsm, consumer);
        const pulled = await (await this.js.consumers.get(consumer.stream, consumer.durable)).consume({
          max_messages: this.options.concurrency ?? 32,
        });
        this.subscriptions.push(pulled);
        this.loops.push(this.run(consumer, pulled));
      }
      callback();
    } catch (error) {
      callback(error);
    }
  }

  /** Stops pulling, waits for handlers in flight to finish (their messages are acked or naked). */
  async close(): Promise<void> {
    this.closing = true;
    for (const subscription of this.subscriptions) subscription.stop();
    await Promise.allSettled(this.loops);
    await Promise.allSettled([...this.inFlight]);
  }

  on(): never {
    throw new Error('JetStreamServer does not emit transport events');
  }

  unwrap<T>(): T {
    return this.options.connection as T;
  }

  private async run(consumer: ConsumerDefinition, messages: ConsumerMessages): Promise<void> {
    const limit = this.options.concurrency ?? 32;
    const mine = new Set<Promise<void>>();
    for await (const message of messages) {
      if (this.closing) {
        message.nak();
        continue;
      }
      const task = this.handle(consumer, message).finally(() => {
        mine.delete(task);
        this.inFlight.delete(task);
      });
      mine.add(task);
      this.inFlight.add(task);
      if (mine.size >= limit) await Promise.race(mine);
    }
  }

  private async handle(consumer: ConsumerDefinition, message: JsMsg): Promise<void> {
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(message.data);
    } catch (error) {
      await this.deadLetter(consumer, message, error);
      return;
    }
    const handler = this.getHandlerByPattern(consumer.filterSubject);
    if (handler === null) {
      message.nak(1_000);
      return;
    }
    const heartbeat = setInterval(() => message.working(), Math.max(1_000, Math.floor(consumer.ackWaitMs / 2)));
    try {
      const result = await handler(envelope, new JetStreamContext(message, consumer));
      if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
      clearInterval(heartbeat);
      await message.ackAck();
      this.counters.acked += 1;
    } catch (error) {
      clearInterval(heartbeat);
      const lastDelivery = consumer.maxDeliver > 0 && message.info.redeliveryCount >= consumer.maxDeliver;
      if (isNonRetryable(error) || lastDelivery) {
        await this.deadLetter(consumer, message, error);
      } else {
        const delayMs = retryAfterMsOf(error) ?? consumer.backoffMs[Math.min(message.info.redeliveryCount - 1, consumer.backoffMs.length - 1)] ?? 1_000;
        if (retryAfterMsOf(error) === undefined) this.log.warn(
          `${consumer.durable}: ${message.subject} delivery ${message.info.redeliveryCount}/${consumer.maxDeliver} failed, retry in ${delayMs} ms: ${(error as Error)?.message ?? String(error)}`,
        );
        message.nak(delayMs);
        this.counters.naked += 1;
      }
    }
  }

  private async deadLetter(consumer: ConsumerDefinition, message: JsMsg, error: unknown): Promise<void> {
    try {
      await publishDeadLetter(this.js, {
        origin: consumer.durable,
        stream: message.info.stream,
        subject: message.subject,
        streamSequence: message.info.streamSequence,
        deliveryCount: message.info.redeliveryCount,
        headers: message.headers,
        data: message.data,
        error,
      });
      message.term(error instanceof SchemaValidationError ? 'schema validation failed' : 'dead-lettered');
      this.counters.deadLettered += 1;
      this.log.warn(`${consumer.durable}: ${message.subject} dead-lettered: ${(error as Error)?.message ?? String(error)}`);
    } catch (publishError) {
      // Never drop a message: if the dead letter cannot be written, leave the original for redelivery.
      this.log.error(`${consumer.durable}: dead letter failed, will retry: ${(publishError as Error).message}`);
      message.nak(5_000);
    }
  }
}

/** The delay a retryable error asks for (`retryAfterMs`, ms), if any. */
function retryAfterMsOf(error: unknown): number | undefined {
  const value = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}
