import './instrumentation';
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { connectToNats, natsSettingsFromEnvironment, createJetStreamMicroservice, provisionStreams, runApp, shutdownOnSignal } from '@troupe/bus';
import { REPLY_SEND, TRIAGE_AGENTS, agentConsumer, effectConsumer, logLevelsFrom, parseEnvironment } from '@troupe/contracts';
import { createPersistence } from '@troupe/persistence';
import { AgentsModule } from './agents.module';
import { AgentsEnvironment } from './config';
import { createTriageSpecialists } from './specialists';

/** Boots the agents app: the classifier, summariser and reply drafter, and the reply-send effect. */
async function bootstrap(): Promise<void> {
  const env = parseEnvironment(AgentsEnvironment);
  const specialists = await createTriageSpecialists(env, process.env);
  const nats = await connectToNats(natsSettingsFromEnvironment(env, 'troupe-agents'));
  if (env.TROUPE_PROVISION_STREAMS) await provisionStreams(await nats.jetstreamManager(), undefined, { replicas: env.TROUPE_STREAM_REPLICAS });
  const persistence = await createPersistence({ nats, mongoUri: env.MONGODB_URI, mongoDbName: env.MONGODB_DB });
  const { app } = await createJetStreamMicroservice(AgentsModule.forRoot({ specialists, sentMail: persistence.sentMail, js: nats.jetstream() }), {
    connection: nats,
    consumers: [
      agentConsumer(TRIAGE_AGENTS.classifier.agent),
      agentConsumer(TRIAGE_AGENTS.summariser.agent),
      agentConsumer(TRIAGE_AGENTS.drafter.agent),
      effectConsumer(REPLY_SEND),
    ],
    concurrency: env.TROUPE_AGENT_CONCURRENCY,
    logger: logLevelsFrom(env.TROUPE_LOG_LEVEL),
  });
  await app.listen();
  new Logger('agents').log(`ready (classifier ${specialists.classifier.name}, drafter ${specialists.drafter.name}, summariser ${specialists.summariser.name})`);
  shutdownOnSignal('agents', [
    () => app.close(),
    () => persistence.close(),
    () => nats.drain(),
  ]);
}

runApp('agents', bootstrap);
