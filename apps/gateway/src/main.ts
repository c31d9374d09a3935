import './instrumentation';
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { connectToNats, provisionStreams, runApp, shutdownOnSignal } from '@troupe/bus';
import { logLevelsFrom, parseEnvironment } from '@troupe/contracts';
import { createPersistence } from '@troupe/persistence';
import { GatewayEnvironment } from './config';
import { GatewayModule } from './gateway.module';
import { ProblemDetailsFilter } from './http/problem-details.filter';

/** Boots the gateway: operators' HTTP API over the read model and the bus. */
async function bootstrap(): Promise<void> {
  const env = parseEnvironment(GatewayEnvironment);
  const nats = await connectToNats({ servers: env.NATS_URL, name: 'troupe-gateway', user: env.NATS_USER, pass: env.NATS_PASSWORD });
  await provisionStreams(await nats.jetstreamManager(), undefined, { replicas: env.TROUPE_STREAM_REPLICAS });
  const persistence = await createPersistence({ nats, mongoUri: env.MONGODB_URI, mongoDbName: env.MONGODB_DB });
  const app = await NestFactory.create<NestExpressApplication>(
    GatewayModule.forRoot({
      store: persistence.snapshots,
      journal: persistence.journal,
      js: nats.jetstream(),
      principal: { id: env.TROUPE_GATEWAY_PRINCIPAL_ID, roles: env.TROUPE_GATEWAY_PRINCIPAL_ROLES },
      now: () => new Date(),
    }),
    { logger: logLevelsFrom(env.TROUPE_LOG_LEVEL), bodyParser: false },
  );
  app.useBodyParser('json', { limit: '256kb' });
  app.useGlobalFilters(new ProblemDetailsFilter());
  await app.listen(env.TROUPE_HTTP_PORT, env.TROUPE_HTTP_HOST);
  new Logger('gateway').log(`ready on http://${env.TROUPE_HTTP_HOST}:${env.TROUPE_HTTP_PORT} (store: ${persistence.kind})`);
  shutdownOnSignal('gateway', [
    () => app.close(),
    () => persistence.close(),
    () => nats.drain(),
  ]);
}

runApp('gateway', bootstrap);
