/**
 * @troupe/bus: NATS JetStream for Troupe. Start with {@link connectToNats} and {@link provisionStreams}
 * at boot, then host handlers with {@link JetStreamServer} (a NestJS custom transport: ack on success,
 * nak with backoff on a retryable failure, dead letter + term otherwise) and publish with
 * {@link publishEnvelope} or {@link JetStreamClient}.
 *
 * Why not `@nestjs-plugins/nestjs-nats-jetstream-transport`: it subscribes with the legacy push
 * `js.subscribe` API, terms every failed message (no nak with delay, so no retry), has no dead-letter
 * subject and does not validate payloads; those four are the point of this library.
 */
export { connectToNats, type NatsConnectionSettings } from './connection';
export { provisionStreams, provisionConsumer } from './provisioning';
export { publishEnvelope, TYPE_HEADER, type PublishOptions } from './publisher';
export { publishDeadLetter, buildDeadLetter, type DeadLetterInput } from './dead-letter';
export { JetStreamServer, JetStreamContext, type JetStreamServerOptions, type JetStreamServerCounters } from './jetstream.server';
export { JetStreamClient } from './jetstream.client';
export { PreserveErrorsFilter } from './preserve-errors.filter';
export { createJetStreamMicroservice } from './microservice';
export { runEffect, type EffectResult } from './effect-handler';
