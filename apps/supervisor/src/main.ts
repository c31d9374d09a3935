import './instrumentation';
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createLanguageModel, describeModelConfig, modelConfigFromEnv } from '@troupe/agent-kit';
import { connectToNats, natsSettingsFromEnvironment, createJetStreamMicroservice, provisionStreams, runApp, shutdownOnSignal } from '@troupe/bus';
import { TRIAGE_AGENTS, agentConsumer, logLevelsFrom, parseEnvironment } from '@troupe/contracts';
import { SupervisorEnvironment } from './config';
import { HeaderRuleRouter } from './routing/header-rule-router';
import { ModelRouter } from './routing/model-router';
import { SupervisorModule } from './supervisor.module';

/** Boots the supervisor: routes legitimate mail to a specialist (the configured model, else header rules). */
async function bootstrap(): Promise<void> {
  const env = parseEnvironment(SupervisorEnvironment);
  const modelConfig = modelConfigFromEnv(process.env);
  const router = modelConfig === null ? new HeaderRuleRouter() : new ModelRouter(createLanguageModel(modelConfig));
  const nats = await connectToNats(natsSettingsFromEnvironment(env, 'troupe-supervisor'));
  if (env.TROUPE_PROVISION_STREAMS) await provisionStreams(await nats.jetstreamManager(), undefined, { replicas: env.TROUPE_STREAM_REPLICAS });
  const { app } = await createJetStreamMicroservice(SupervisorModule.forRoot({ router, js: nats.jetstream() }), {
    connection: nats,
    consumers: [agentConsumer(TRIAGE_AGENTS.supervisor.agent)],
    logger: logLevelsFrom(env.TROUPE_LOG_LEVEL),
  });
  await app.listen();
  new Logger('supervisor').log(`ready (router ${router.name}${modelConfig === null ? '' : `, ${describeModelConfig(modelConfig)}`})`);
  shutdownOnSignal('supervisor', [
    () => app.close(),
    () => nats.drain(),
  ]);
}

runApp('supervisor', bootstrap);
