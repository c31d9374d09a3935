import './instrumentation';
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { KvWorkflowUsage, ProviderBreakers, WorkflowCallBudget, advertiseAgents, modelConfigFromEnv, resilienceFromEnvironment } from '@troupe/agent-kit';
import { connectToNats, natsSettingsFromEnvironment, createJetStreamMicroservice, provisionStreams, runApp, shutdownOnSignal } from '@troupe/bus';
import { AGENT_EFFECT_KINDS, CLAIM_AGENTS, REPLY_SEND, TRIAGE_AGENTS, agentConsumer, effectConsumer, logLevelsFrom, parseEnvironment } from '@troupe/contracts';
import { createPersistence } from '@troupe/persistence';
import { AgentsModule } from './agents.module';
import { createClaimAgents } from './claims/claim-agents.factory';
import { openClaimLedgers } from './claims/claim-ledgers';
import { AgentsEnvironment } from './config';
import { triageAdvertisements } from './runs/advertisements';
import { createAgentHost } from './runs/agent-runs';
import { createIncidentAgents, incidentAgentConsumers } from './incidents/create-incident-agents';
import { configuredChains } from './model-chains';
import { createTriageSpecialists } from './specialists';

/** Boots the agents app: the classifier, summariser, reply drafter and spam-quarantine agent, and the reply-send effect. */
async function bootstrap(): Promise<void> {
  const env = parseEnvironment(AgentsEnvironment);
  // One circuit breaker per provider for every model chain of the process (one-step agents and agent runs).
  const breakers = new ProviderBreakers(resilienceFromEnvironment(env));
  // The one-step agents' chains: the configured models, then each agent's non-LLM fallback.
  const chains = configuredChains(env, process.env, breakers);
  const specialists = await createTriageSpecialists(env, process.env, chains);
  const incidents = createIncidentAgents(process.env, chains);
  const nats = await connectToNats(natsSettingsFromEnvironment(env, 'troupe-agents'));
  if (env.TROUPE_PROVISION_STREAMS) await provisionStreams(await nats.jetstreamManager(), undefined, { replicas: env.TROUPE_STREAM_REPLICAS });
  const persistence = await createPersistence({ nats, mongoUri: env.MONGODB_URI, mongoDbName: env.MONGODB_DB });
  const claims = { agents: createClaimAgents(process.env, chains), ledgers: await openClaimLedgers(nats) };
  // Per-workflow usage (budgets): written by agent runs and the one-step model calls, when a model may be called.
  const modelConfigured = modelConfigFromEnv(process.env) !== null;
  const usage = modelConfigured || env.TROUPE_REACT_LOOP === 'always' ? await KvWorkflowUsage.open(nats.jetstream(), { replicas: env.TROUPE_STREAM_REPLICAS }) : null;
  // The classifier, incident diagnoser and claim agents ask no model once their workflow's budget is spent.
  const budget =
    usage !== null && modelConfigured ? new WorkflowCallBudget(usage, { maxTokens: env.TROUPE_WORKFLOW_MAX_TOKENS, maxCostUsd: env.TROUPE_WORKFLOW_MAX_COST_USD }) : null;
  const agentHost = await createAgentHost(env, process.env, nats.jetstream(), { breakers, usage });
  const runConsumers = agentHost === null ? [] : Object.values(AGENT_EFFECT_KINDS).map((kind) => effectConsumer(kind));
  const { app } = await createJetStreamMicroservice(AgentsModule.forRoot({ specialists, sentMail: persistence.sentMail, js: nats.jetstream(), agentHost, incidents, claims, budget }), {
    connection: nats,
    consumers: [
      agentConsumer(TRIAGE_AGENTS.classifier.agent),
      agentConsumer(TRIAGE_AGENTS.summariser.agent),
      agentConsumer(TRIAGE_AGENTS.drafter.agent),
      agentConsumer(TRIAGE_AGENTS.quarantine.agent),
      effectConsumer(REPLY_SEND),
      ...runConsumers,
      ...incidentAgentConsumers(),
      ...Object.values(CLAIM_AGENTS).map(({ agent }) => agentConsumer(agent)),
    ],
    concurrency: env.TROUPE_AGENT_CONCURRENCY,
    logger: logLevelsFrom(env.TROUPE_LOG_LEVEL),
  });
  // Advertise before serving, so the supervisor can route to these specialists (DESIGN.md "Agents").
  await advertiseAgents(nats.jetstream(), triageAdvertisements(new Date()), { replicas: env.TROUPE_STREAM_REPLICAS });
  await app.listen();
  new Logger('agents').log(
    agentHost === null
      ? `ready (classifier ${specialists.classifier.name}, drafter ${specialists.drafter.name}, summariser ${specialists.summariser.name}, incident diagnoser ${incidents.diagnoser.name}, claims ${claims.agents.extractor.name})`
      : `ready (classifier ${specialists.classifier.name}; drafter, summariser and spam-quarantine as ReAct runs; incident diagnoser ${incidents.diagnoser.name}, claims ${claims.agents.extractor.name})`,
  );
  shutdownOnSignal('agents', [
    () => app.close(),
    () => persistence.close(),
    () => nats.drain(),
  ]);
}

runApp('agents', bootstrap);
