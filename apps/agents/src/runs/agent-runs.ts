import { Logger } from '@nestjs/common';
import {
  AgentHost,
  KvToolResultStore,
  KvWorkflowUsage,
  chainModelsFromEnv,
  describeModelConfig,
  modelConfigFromEnv,
  priceTableFromEnv,
  resilienceFromEnvironment,
  secondaryModelConfigFromEnv,
  type ProviderBreakers,
  type WorkflowUsageLedger,
} from '@troupe/agent-kit';
import { loadSpamAssassinCorpus, parseCorpusEmail } from '@troupe/email-corpus';
import type { JetStreamClient } from 'nats';
import type { AgentsEnvironment } from '../config';
import { lazyMailbox } from './corpus-tools';
import { createTriageAgents } from './triage-agents';

/**
 * The agent host of this process, or null when the drafter and summariser answer directly (the
 * default without a model, `TROUPE_REACT_LOOP=auto`). The chain is the configured model, the secondary
 * model (`TROUPE_SECONDARY_MODEL_*`) and the offline default as the non-LLM fallback; the mailbox tools
 * search the SpamAssassin corpus, parsed on the first tool call. `shared` are the process's circuit
 * breakers and per-workflow usage ledger (opened here when null).
 *
 * @throws ModelConfigError when `TROUPE_MODEL_*`, `TROUPE_SECONDARY_MODEL_*` or `TROUPE_MODEL_PRICES` is invalid.
 */
export async function createAgentHost(
  env: AgentsEnvironment,
  processEnv: NodeJS.ProcessEnv,
  js: JetStreamClient,
  shared: { breakers: ProviderBreakers; usage: WorkflowUsageLedger | null },
): Promise<AgentHost | null> {
  const primary = modelConfigFromEnv(processEnv);
  const secondary = secondaryModelConfigFromEnv(processEnv);
  const prices = priceTableFromEnv(processEnv);
  const enabled = env.TROUPE_REACT_LOOP === 'always' || (env.TROUPE_REACT_LOOP === 'auto' && primary !== null);
  if (!enabled) return null;
  const models = chainModelsFromEnv(processEnv);
  const log = new Logger('agents');
  log.log(
    `agent runs on: drafter, summariser and spam-quarantine are ReAct loops over ${[
      ...[primary, secondary].filter((config) => config !== null).map((config) => describeModelConfig(config)),
      'the non-LLM fallback',
    ].join(' → ')}`,
  );
  const agents = createTriageAgents({
    models,
    prices,
    breakers: shared.breakers,
    resilience: resilienceFromEnvironment(env),
    budget: { maxIterations: env.TROUPE_AGENT_MAX_ITERATIONS, maxTokens: env.TROUPE_AGENT_MAX_TOKENS, maxCostUsd: env.TROUPE_AGENT_MAX_COST_USD },
    mailbox: lazyMailbox(async () => {
      const started = Date.now();
      const emails = await Promise.all(loadSpamAssassinCorpus().map((message) => parseCorpusEmail(message)));
      log.log(`mailbox tools: ${emails.length} emails indexed in ${Date.now() - started} ms`);
      return emails;
    }),
  });
  return new AgentHost({
    js,
    agents,
    toolResults: await KvToolResultStore.open(js, { replicas: env.TROUPE_STREAM_REPLICAS }),
    usage: shared.usage ?? (await KvWorkflowUsage.open(js, { replicas: env.TROUPE_STREAM_REPLICAS })),
    workflowLimits: { maxTokens: env.TROUPE_WORKFLOW_MAX_TOKENS, maxCostUsd: env.TROUPE_WORKFLOW_MAX_COST_USD },
    source: 'agents/runs',
  });
}
