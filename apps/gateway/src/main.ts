import './instrumentation';
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { connectToNats, natsSettingsFromEnvironment, provisionStreams, runApp, shutdownOnSignal } from '@troupe/bus';
import { logLevelsFrom, parseEnvironment } from '@troupe/contracts';
import { createPersistence } from '@troupe/persistence';
import { WORKFLOW_CATALOG } from '@troupe/statecharts';
import { Authenticator } from './auth/authenticator';
import { GatewayEnvironment, authSettingsFrom } from './config';
import { GatewayModule } from './gateway.module';
import { answerClientErrorsWithProblems } from './http/client-errors';
import { setUpOpenApi } from './http/openapi';
import { ProblemDetailsFilter } from './http/problem-details.filter';

/** Boots the gateway: operators' HTTP API over the read model and the bus. */
async function bootstrap(): Promise<void> {
  const env = parseEnvironment(GatewayEnvironment);
  const auth = authSettingsFrom(env);
  const log = new Logger('gateway');
  const nats = await connectToNats(natsSettingsFromEnvironment(env, 'troupe-gateway'));
  if (env.TROUPE_PROVISION_STREAMS) await provisionStreams(await nats.jetstreamManager(), undefined, { replicas: env.TROUPE_STREAM_REPLICAS });
  const persistence = await createPersistence({ nats, mongoUri: env.MONGODB_URI, mongoDbName: env.MONGODB_DB });
  const authenticator = new Authenticator(auth);
  const app = await NestFactory.create<NestExpressApplication>(
    GatewayModule.forRoot(
      {
        store: persistence.snapshots,
        journal: persistence.journal,
        journalArchive: persistence.journalArchive,
        nats,
        js: nats.jetstream(),
        catalog: WORKFLOW_CATALOG,
        now: () => new Date(),
        newId: () => randomUUID(),
      },
      authenticator,
      { limit: env.TROUPE_RATE_LIMIT, windowMs: env.TROUPE_RATE_LIMIT_WINDOW_MS, unauthenticatedLimit: env.TROUPE_UNAUTHENTICATED_RATE_LIMIT },
    ),
    // forceCloseConnections: open SSE feeds must not hold up a shutdown.
    { logger: logLevelsFrom(env.TROUPE_LOG_LEVEL), bodyParser: false, forceCloseConnections: true },
  );
  app.useBodyParser('json', { limit: env.TROUPE_HTTP_BODY_LIMIT_BYTES });
  app.useGlobalFilters(new ProblemDetailsFilter());
  setUpOpenApi(app);
  if (!authenticator.configured) {
    log.warn('no credentials configured (TROUPE_GATEWAY_API_KEYS, TROUPE_GATEWAY_API_KEYS_FILE, TROUPE_JWT_*): every route but /health and /docs answers 401');
  }
  answerClientErrorsWithProblems(app.getHttpServer());
  await app.listen(env.TROUPE_HTTP_PORT, env.TROUPE_HTTP_HOST);
  log.log(
    `ready on http://${env.TROUPE_HTTP_HOST}:${env.TROUPE_HTTP_PORT} (store: ${persistence.kind}; ${auth.apiKeys.length} API keys; JWT ${auth.jwt === null ? 'off' : `issuer ${auth.jwt.issuer}`}; docs at /docs)`,
  );
  shutdownOnSignal('gateway', [
    () => app.close(),
    () => persistence.close(),
    () => nats.drain(),
  ]);
}

runApp('gateway', bootstrap);
