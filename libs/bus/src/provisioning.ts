import {
  AckPolicy,
  DeliverPolicy,
  RetentionPolicy,
  StorageType,
  nanos,
  type JetStreamManager,
  type StreamConfig,
} from 'nats';
import { STREAMS, type ConsumerDefinition, type StreamDefinition } from '@troupe/contracts';

function streamConfig(definition: StreamDefinition, replicas: number): Partial<StreamConfig> & { name: string } {
  return {
    name: definition.name,
    subjects: definition.subjects,
    description: definition.description,
    retention: definition.retention === 'workqueue' ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: nanos(definition.maxAgeMs),
    duplicate_window: nanos(definition.duplicateWindowMs),
    num_replicas: replicas,
  };
}

/**
 * Creates each stream, or updates it to the definition when it exists (idempotent; safe to run from
 * every process at boot). `options.replicas` (default 1) sets every stream's replica count: 3 on a JetStream cluster (`TROUPE_STREAM_REPLICAS`).
 *
 * @throws Error from JetStream when a definition conflicts with an existing stream's immutable settings
 *   (e.g. retention) or with another stream's subjects.
 */
export async function provisionStreams(
  jsm: JetStreamManager,
  definitions: StreamDefinition[] = Object.values(STREAMS),
  options: { replicas?: number } = {},
): Promise<void> {
  for (const definition of definitions) {
    const config = streamConfig(definition, options.replicas ?? 1);
    try {
      await jsm.streams.info(definition.name);
      await jsm.streams.update(definition.name, config);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      try {
        await jsm.streams.add(config);
      } catch (addError) {
        // Another process created it between our info and add.
        if (!/already in use|exists/i.test(String((addError as Error).message))) throw addError;
      }
    }
  }
}

/** How {@link provisionConsumer} creates a consumer that does not exist yet. */
export interface ProvisionConsumerOptions {
  /**
   * Stream sequence the new consumer starts at (`DeliverPolicy.StartSequence`); default: the start of
   * the stream. Ignored when the consumer exists.
   */
  startSequence?: number;
}

/**
 * Creates or updates a durable pull consumer (explicit ack; deliveries capped by `maxDeliver`).
 * Redelivery delays come from the nak (see `JetStreamServer`), not from server-side backoff, so a slow
 * handler is never redelivered while it still works (it sends in-progress acks instead). Safe to run
 * from several processes at once. A consumer whose filter subject changed (e.g. after an upgrade) is
 * deleted and re-created after its ack floor, as nats-server 2.9 stalls an updated filter: provision
 * at boot, before this process consumes (as every app does).
 *
 * @throws Error from JetStream when the stream is missing or the definition conflicts with the
 *   consumer's immutable settings.
 */
export async function provisionConsumer(jsm: JetStreamManager, definition: ConsumerDefinition, options: ProvisionConsumerOptions = {}): Promise<void> {
  const config = {
    durable_name: definition.durable,
    ack_policy: AckPolicy.Explicit,
    filter_subject: definition.filterSubject,
    max_deliver: definition.maxDeliver,
    ack_wait: nanos(definition.ackWaitMs),
    max_ack_pending: definition.maxAckPending,
    ...(options.startSequence === undefined
      ? { deliver_policy: DeliverPolicy.All }
      : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: options.startSequence }),
  };
  const update = () =>
    jsm.consumers.update(definition.stream, definition.durable, {
      max_deliver: config.max_deliver,
      ack_wait: config.ack_wait,
      max_ack_pending: config.max_ack_pending,
      filter_subject: config.filter_subject,
    });
  try {
    const existing = await jsm.consumers.info(definition.stream, definition.durable);
    if ((existing.config.filter_subject ?? '') !== definition.filterSubject) {
      // nats-server 2.9 accepts a changed filter subject but then stalls deliveries (seen on 2.9.10: each
      // event waited ~15 s until a pull expired), so a consumer whose filter changed is re-created after
      // its ack floor: events it had acknowledged are not delivered again; those acked above the floor
      // are, once, and the handler deduplicates them.
      await jsm.consumers.delete(definition.stream, definition.durable);
      await provisionConsumer(jsm, definition, { startSequence: existing.ack_floor.stream_seq + 1 });
      return;
    }
    await update();
  } catch (error) {
    if (!isNotFound(error)) throw error;
    try {
      await jsm.consumers.add(definition.stream, config);
    } catch (addError) {
      // Another process created it between our info and add.
      if (!/already exists|already in use/i.test(String((addError as Error).message))) throw addError;
      await update();
    }
  }
}

/**
 * Provisions `consumers`, which together take over the work of the durable `replaces` on the same
 * stream (e.g. one consumer per partition replacing one consumer of every partition), then deletes
 * `replaces`. Consumers created while `replaces` still exists start after its ack floor, so events it
 * had acknowledged are not delivered again (those acked out of order above the floor are, once, and
 * the receiving handler deduplicates them). Idempotent and safe to run from several processes at boot;
 * processes still consuming `replaces` must be stopped first.
 *
 * @returns Whether a leftover `replaces` consumer was found and deleted.
 * @throws Error from JetStream when provisioning or deleting fails for another reason than "not found".
 */
export async function provisionReplacementConsumers(
  jsm: JetStreamManager,
  consumers: ConsumerDefinition[],
  replaces: Pick<ConsumerDefinition, 'stream' | 'durable'>,
): Promise<boolean> {
  let startSequence: number | undefined;
  try {
    const legacy = await jsm.consumers.info(replaces.stream, replaces.durable);
    startSequence = legacy.ack_floor.stream_seq + 1;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  for (const consumer of consumers) {
    if (consumer.stream !== replaces.stream) throw new Error(`consumer ${consumer.durable} is not on stream ${replaces.stream}`);
    await provisionConsumer(jsm, consumer, { startSequence });
  }
  if (startSequence === undefined) return false;
  try {
    await jsm.consumers.delete(replaces.stream, replaces.durable);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  return true;
}

function isNotFound(error: unknown): boolean {
  const message = String((error as Error)?.message ?? error);
  return /not found/i.test(message);
}
