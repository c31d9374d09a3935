import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ActorRuntime } from '@troupe/actor-runtime';
import { connectToNats, createJetStreamMicroservice, provisionStreams, publishEnvelope } from '@troupe/bus';
import { ORCHESTRATOR_CONSUMER, TIMER_CONSUMER, logLevelsFrom, parseEnvironment } from '@troupe/contracts';
import { createPersistence } from '@troupe/persistence';
import { OrchestratorEnvironment } from './config';
import { OrchestratorModule } from './orchestrator.module';
import { emailTriageWorkflow } from './workflows/email-triage.workflow';

/** Boots the orchestrator: hosts workflow actors on the WF_EVENTS stream. */
async function bootstrap(): Promise<void> {
  const env = parseEnvironment(OrchestratorEnvironment);
  const nats = await connectToNats({ servers: env.NATS_URL, name: 'troupe-orchestrator', user: env.NATS_USER, pass: env.NATS_PASSWORD });
  await provisionStreams(await nats.jetstreamManager());
  const persistence = await createPersistence({ nats, mongoUri: env.MONGODB_URI, mongoDbName: env.MONGODB_DB });
  const js = nats.jetstream();
  const runtime = new ActorRuntime({
    definitions: [
      emailTriageWorkflow({
        confidenceThreshold: env.TROUPE_CONFIDENCE_THRESHOLD,
        approvalTimeoutMs: env.TROUPE_APPROVAL_TIMEOUT_MS,
        escalationTimeoutMs: env.TROUPE_ESCALATION_TIMEOUT_MS,
      }),
    ],
    store: persistence.snapshots,
    journal: persistence.journal,
    publish: async (message) => {
      await publishEnvelope(js, message.subject, message.envelope, { msgId: message.id });
    },
    cacheSize: env.TROUPE_ACTOR_CACHE_SIZE,
    idleMs: env.TROUPE_ACTOR_IDLE_MS,
  });
  const { app } = await createJetStreamMicroservice(OrchestratorModule.forRoot(runtime, { js, now: () => new Date() }), {
    connection: nats,
    consumers: [ORCHESTRATOR_CONSUMER, TIMER_CONSUMER],
    concurrency: env.TROUPE_ORCHESTRATOR_CONCURRENCY,
    logger: logLevelsFrom(env.TROUPE_LOG_LEVEL),
  });
  await app.listen();
  new Logger('orchestrator').log(`ready (store: ${persistence.kind}, NATS: ${env.NATS_URL})`);
  const shutdown = async (): Promise<void> => {
    await app.close();
    await persistence.close();
    await nats.drain();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
}

void bootstrap().catch((error: unknown) => {
  new Logger('orchestrator').error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
