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

function streamConfig(definition: StreamDefinition): Partial<StreamConfig> & { name: string } {
  return {
    name: definition.name,
    subjects: definition.subjects,
    description: definition.description,
    retention: definition.retention === 'workqueue' ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: nanos(definition.maxAgeMs),
    duplicate_window: nanos(definition.duplicateWindowMs),
    num_replicas: 1,
  };
}

/**
 * Creates each stream, or updates it to the definition when it exists (idempotent; safe to run from
 * every process at boot). Replicas are 1 here; a cluster deployment raises them in deploy/.
 *
 * @throws Error from JetStream when a definition conflicts with an existing stream's immutable settings
 *   (e.g. retention) or with another stream's subjects.
 */
export async function provisionStreams(
  jsm: JetStreamManager,
  definitions: StreamDefinition[] = Object.values(STREAMS),
): Promise<void> {
  for (const definition of definitions) {
    const config = streamConfig(definition);
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

/**
 * Creates or updates a durable pull consumer (explicit ack; deliveries capped by `maxDeliver`).
 * Redelivery delays come from the nak (see `JetStreamServer`), not from server-side backoff, so a slow
 * handler is never redelivered while it still works (it sends in-progress acks instead).
 */
export async function provisionConsumer(jsm: JetStreamManager, definition: ConsumerDefinition): Promise<void> {
  const config = {
    durable_name: definition.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: definition.filterSubject,
    max_deliver: definition.maxDeliver,
    ack_wait: nanos(definition.ackWaitMs),
    max_ack_pending: definition.maxAckPending,
  };
  try {
    await jsm.consumers.info(definition.stream, definition.durable);
    await jsm.consumers.update(definition.stream, definition.durable, {
      max_deliver: config.max_deliver,
      ack_wait: config.ack_wait,
      max_ack_pending: config.max_ack_pending,
      filter_subject: config.filter_subject,
    });
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await jsm.consumers.add(definition.stream, config);
  }
}

function isNotFound(error: unknown): boolean {
  const message = String((error as Error)?.message ?? error);
  return /not found/i.test(message);
}
