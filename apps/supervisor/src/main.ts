import './instrumentation';
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { KvWorkflowUsage, ProviderBreakers, WorkflowCallBudget, describeModelConfig, modelConfigFromEnv, readAgentAdvertisements, resilienceFromEnvironment } from '@troupe/agent-kit';
import { connectToNats, natsSettingsFromEnvironment, createJetStreamMicroservice, provisionStreams, runApp, shutdownOnSignal } from '@troupe/bus';
import { TRIAGE_AGENTS, agentConsumer, logLevelsFrom, parseEnvironment, type AgentAdvertisement } from '@troupe/contracts';
import { SupervisorEnvironment } from './config';
import { configuredRouter } from './routing/configured-router';
import { SupervisionStarter } from './supervision/supervision-starter';
import { SupervisorModule } from './supervisor.module';

/** How long the advertised specialists are reused before reading the bucket again (ms). */
const ADVERTISEMENT_CACHE_MS = 5_000;

/**
 * Boots the supervisor: each routing or fan-out task starts a supervisor-routing actor (hosted by the
 * orchestrator); its decisions come from the configured model, else header rules.
 */
async function bootstrap(): Promise<void> {
  const env = parseEnvironment(SupervisorEnvironment);
  const modelConfig = modelConfigFromEnv(process.env);
  // With a model: primary → secondary → header rules, behind cockatiel's policies (agent-kit ModelChain)
  // with the TROUPE_MODEL_* resilience settings the agents use.
  const router = configuredRouter(env, process.env, new ProviderBreakers(resilienceFromEnvironment(env)));
  const nats = await connectToNats(natsSettingsFromEnvironment(env, 'troupe-supervisor'));
  if (env.TROUPE_PROVISION_STREAMS) await provisionStreams(await nats.jetstreamManager(), undefined, { replicas: env.TROUPE_STREAM_REPLICAS });
  const js = nats.jetstream();
  const log = new Logger('supervisor');
  let cached: { at: number; agents: AgentAdvertisement[] } | null = null;
  const supervisions = new SupervisionStarter({
    js,
    // Read again at most every 5 s: agents advertise at boot, so the list changes rarely.
    advertisements: async () => {
      if (cached !== null && Date.now() - cached.at < ADVERTISEMENT_CACHE_MS) return cached.agents;
      const { agents, invalid } = await readAgentAdvertisements(js, { replicas: env.TROUPE_STREAM_REPLICAS });
      if (invalid.length > 0) log.warn(`ignoring invalid agent advertisements: ${invalid.join(', ')}`);
      cached = { at: Date.now(), agents };
      return agents;
    },
    confidenceThreshold: env.TROUPE_SUPERVISOR_CONFIDENCE_THRESHOLD,
    joinTimeoutMs: env.TROUPE_SUPERVISOR_JOIN_TIMEOUT_MS,
  });
  // With a model, the router's tokens and cost count in each workflow's budget (the agents' KV bucket),
  // and once that budget is spent the header rules decide without the model.
  const budget =
    modelConfig === null
      ? null
      : new WorkflowCallBudget(await KvWorkflowUsage.open(js, { replicas: env.TROUPE_STREAM_REPLICAS }), {
          maxTokens: env.TROUPE_WORKFLOW_MAX_TOKENS,
          maxCostUsd: env.TROUPE_WORKFLOW_MAX_COST_USD,
        });
  const { app } = await createJetStreamMicroservice(SupervisorModule.forRoot({ router, js, supervisions, budget }), {
    connection: nats,
    consumers: [agentConsumer(TRIAGE_AGENTS.supervisor.agent)],
    logger: logLevelsFrom(env.TROUPE_LOG_LEVEL),
  });
  await app.listen();
  log.log(`ready (router ${router.name}${modelConfig === null ? '' : `, ${describeModelConfig(modelConfig)}`})`);
  shutdownOnSignal('supervisor', [
    () => app.close(),
    () => nats.drain(),
  ]);
}

runApp('supervisor', bootstrap);
