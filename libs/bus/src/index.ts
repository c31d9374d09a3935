/**
 * @troupe/bus: NATS JetStream for Troupe. Start with {@link connectToNats} and {@link provisionStreams}
 * at boot, then host handlers with {@link JetStreamServer} (a NestJS custom transport: ack on success,
 * nak with backoff on a retryable failure, dead letter + term otherwise) and publish with
 * {@link publishEnvelope} or {@link JetStreamClient}. A handler pattern can also be served by consumers
 * started and stopped at run time ({@link JetStreamServer.startConsumer}); {@link PartitionLeaseManager}
 * decides which partitions a replica owns (leases in a JetStream KV bucket with a TTL), so an
 * orchestrator consumes only the partitions it owns. {@link Scheduler} fires cron schedules (stored by
 * {@link ScheduleStore} in a KV bucket) into workflows, once per tick across replicas. Publishing and consuming carry the W3C trace
 * context in NATS headers, in messaging spans (@troupe/telemetry).
 *
 * Why not `@nestjs-plugins/nestjs-nats-jetstream-transport`: it subscribes with the legacy push
 * `js.subscribe` API, terms every failed message (no nak with delay, so no retry), has no dead-letter
 * subject and does not validate payloads; those four are the point of this library.
 */
export { connectToNats, natsSettingsFromEnvironment, type NatsConnectionSettings } from './connection';
export { provisionStreams, provisionConsumer, provisionReplacementConsumers, type ProvisionConsumerOptions } from './provisioning';
export { publishEnvelope, TYPE_HEADER, type PublishOptions } from './publisher';
export { listKvKeys } from './kv-keys';
export { AckedPublisher, type AckedPublisherOptions, type JetStreamPublish } from './acked-publisher';
export { publishDeadLetter, buildDeadLetter, DEAD_LETTER_MAX_DATA_BYTES, type DeadLetterInput } from './dead-letter';
export {
  JetStreamServer,
  JetStreamContext,
  type JetStreamServerOptions,
  type StartConsumerOptions,
  type JetStreamServerCounters,
} from './jetstream.server';
export {
  PartitionLeaseManager,
  type PartitionLeaseOptions,
  type PartitionLossReason,
  PartitionLease,
  LeaseMember,
  type StoredPartitionLease,
  partitionLeaseKey,
  memberKey,
  fairShare,
  leasePriority,
  openLeaseBucket,
  readPartitionLeases,
} from './partitions/partition-leases';
export { JetStreamClient } from './jetstream.client';
export { PreserveErrorsFilter } from './preserve-errors.filter';
export { createJetStreamMicroservice } from './microservice';
export { runEffect, type EffectResult } from './effect-handler';
export {
  listDeadLetters,
  replayDeadLetter,
  REPLAY_OF_HEADER,
  DEAD_LETTER_PAGE,
  DeadLetterError,
  DeadLetterNotFoundError,
  DeadLetterTruncatedError,
  DeadLetterOriginMismatchError,
  deadLetterOriginMismatch,
  DeadLetterUnreadableError,
  DeadLetterQueryError,
  DeadLetterReplayError,
  type ListDeadLettersOptions,
  type StoredDeadLetter,
  type DeadLetterReplay,
} from './dead-letters';
export { runApp, shutdownOnSignal } from './lifecycle';
export { ScheduleStore, ScheduleStoreError, type StoredSchedule } from './schedules/schedule-store';
export { validateCron, nextTickOf } from './schedules/cron';
export { Scheduler, type SchedulerOptions, type SchedulerPass } from './schedules/scheduler';
