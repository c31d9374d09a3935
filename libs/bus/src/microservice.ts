import type { INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NatsConnection } from 'nats';
import type { ConsumerDefinition } from '@troupe/contracts';
import { JetStreamServer } from './jetstream.server';
import { PreserveErrorsFilter } from './preserve-errors.filter';

/**
 * Creates a NestJS microservice on the JetStream transport with errors preserved for the transport
 *. Call `listen()` on the result.
 */
export async function createJetStreamMicroservice(
  module: unknown,
  options: {
    connection: NatsConnection;
    consumers: ConsumerDefinition[];
    concurrency?: number;
    logger?: Array<'error' | 'warn' | 'log' | 'debug' | 'verbose'>;
  },
): Promise<{ app: INestMicroservice; server: JetStreamServer }> {
  const server = new JetStreamServer({ connection: options.connection, consumers: options.consumers, concurrency: options.concurrency });
  const app = await NestFactory.createMicroservice(module as never, { strategy: server, logger: options.logger });
  app.useGlobalFilters(new PreserveErrorsFilter());
  return { app, server };
}
