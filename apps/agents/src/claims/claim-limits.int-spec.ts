import type { INestMicroservice } from '@nestjs/common';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KvWorkflowUsage, WorkflowCallBudget, scriptedLanguageModel } from '@troupe/agent-kit';
import { createJetStreamMicroservice, provisionStreams, publishEnvelope, type JetStreamServer } from '@troupe/bus';
import {
  AGENT_TASK_REQUESTED,
  CLAIM_AGENTS,
  CLAIM_CLASSIFIED,
  CLAIM_EXTRACTED,
  agentConsumer,
  agentTaskSubject,
  type AgentTaskLimits,
  type Claim,
  type Envelope,
} from '@troupe/contracts';
import { createPersistence, type Persistence } from '@troupe/persistence';
import { lastWorkflowEventPayload, pollUntil, startNatsServer, type NatsServerHandle } from '@troupe/testing';
import { AgentsModule } from '../agents.module';
import { RuleSpamQuarantiner } from '../quarantine/spam-quarantiner';
import { TemplateReplyDrafter } from '../drafter/template-reply-drafter';
import { ExtractiveSummariser } from '../summariser/extractive-summariser';
import { createIncidentAgents } from '../incidents/create-incident-agents';
import type { ChainFactory } from '../model-chains';
import { specBreakers, specChain } from '../testing/one-step-chain';
import { openClaimLedgers } from './claim-ledgers';
import { modelClaimAgents } from './claim-agents';

// A declared workflow's limits on its claim tasks, on real NATS with the scripted test-double model (which
// reports no tokens, so only the model-call count can stop it): the declared budget, when stricter than
// the environment's, stops the second model call (the offline stand-in answers, reason budget_exhausted);
// the environment's, when stricter, holds over a looser declaration; the declared temperature and output
// token cap reach the model's request.

const details = { policyNumber: 'POL-7', claimType: 'auto', incidentDate: '2026-02-03', amountUsd: 800, injuries: false, policeReport: false, description: 'A scraped bumper.' };
const claim: Claim = {
  claimId: 'CLM-L-1',
  claimant: { name: 'Ada Okafor', email: 'ada@example.org' },
  text: 'Policy number: POL-7\nType of claim: auto\nDate of incident: 2026-02-03\nAmount claimed: $800\nWhat happened: A scraped bumper.',
  origin: { corpus: 'test' },
};
const model = scriptedLanguageModel([JSON.stringify(details), JSON.stringify({ severity: 'medium', reason: 'the model says so' })], { provider: 'scripted', modelId: 'claims-1' });

let nats: NatsServerHandle;
let connection: NatsConnection;
let persistence: Persistence;
let app: INestMicroservice;
let server: JetStreamServer;
let usage: KvWorkflowUsage;
const warnings: string[] = [];
const budgetLines: string[] = [];

/** A claim agent task of `workflowId` (effect `<workflowId>:1:<n>`) carrying `limits`. */
function claimTask(agent: { agent: string; task: string }, workflowId: string, n: number, input: unknown, limits: AgentTaskLimits): Envelope {
  return {
    id: `task-${workflowId}-${n}`,
    type: AGENT_TASK_REQUESTED,
    workflowId,
    correlationId: workflowId,
    causationId: null,
    occurredAt: new Date().toISOString(),
    source: 'claim-limits.int-spec',
    payload: { effectId: `${workflowId}:1:${n}`, agent: agent.agent, task: agent.task, input, limits },
  };
}

const lastEvent = (workflowId: string, type: string) => lastWorkflowEventPayload(connection, workflowId, type);

async function handled(count: number): Promise<void> {
  await pollUntil(() => server.counters.acked + server.counters.deadLettered, (n) => n >= count);
  expect(server.counters).toMatchObject({ acked: count, deadLettered: 0 });
}

beforeAll(async () => {
  nats = await startNatsServer();
  connection = await connect({ servers: nats.url });
  await provisionStreams(await connection.jetstreamManager());
  persistence = await createPersistence({ nats: connection });
  const js = connection.jetstream();
  usage = await KvWorkflowUsage.open(js);
  const breakers = specBreakers({ breakerThreshold: 100, halfOpenAfterMs: 60_000 }, warnings);
  const chains: ChainFactory = (fallback) => specChain(model, fallback, breakers);
  ({ app, server } = await createJetStreamMicroservice(
    AgentsModule.forRoot({
      specialists: { classifier: { name: 'unused', classify: () => Promise.reject(new Error('unused')) }, drafter: new TemplateReplyDrafter(), summariser: new ExtractiveSummariser(), quarantiner: new RuleSpamQuarantiner() },
      sentMail: persistence.sentMail,
      js,
      agentHost: null,
      incidents: createIncidentAgents({}, null),
      claims: { agents: modelClaimAgents(chains), ledgers: await openClaimLedgers(connection) },
      // The environment's limits: 1,000 tokens, 1 USD, no limit on model calls.
      budget: new WorkflowCallBudget(usage, { maxTokens: 1_000, maxCostUsd: 1 }, { log: (message) => budgetLines.push(message) }),
    }),
    { connection, consumers: [agentConsumer(CLAIM_AGENTS.extractor.agent), agentConsumer(CLAIM_AGENTS.assessor.agent)], logger: ['error'] },
  ));
  await app.listen();
});

afterAll(async () => {
  await app?.close();
  await persistence?.close();
  await connection?.close();
  await nats?.stop();
});

describe('a declared workflow\u2019s limits on its claim tasks', () => {
  it('call the model with the declared settings, count the call, and answer the next step from the stand-in once the declared model calls are spent', async () => {
    const js = connection.jetstream();
    const budget = { maxModelCalls: 1, maxTokens: 50_000 };
    await publishEnvelope(js, agentTaskSubject(CLAIM_AGENTS.extractor.agent), claimTask(CLAIM_AGENTS.extractor, 'claim-limits-1', 0, { claim }, { budget, model: { temperature: 0.15, maxOutputTokens: 321 } }));
    await handled(1);
    expect(await lastEvent('claim-limits-1', CLAIM_EXTRACTED)).toMatchObject({ details, extractor: 'chain/scripted/claims-1' });
    // The request the model got: the declared temperature and output token cap.
    expect(model.doGenerateCalls).toHaveLength(1);
    expect(model.doGenerateCalls[0]).toMatchObject({ temperature: 0.15, maxOutputTokens: 321 });
    // Counted as a model call although the scripted model reports no tokens.
    expect(await usage.spent('claim-limits-1')).toMatchObject({ tokens: 0, modelCalls: 1, runIds: ['claim-limits-1:1:0'] });

    await publishEnvelope(js, agentTaskSubject(CLAIM_AGENTS.assessor.agent), claimTask(CLAIM_AGENTS.assessor, 'claim-limits-1', 1, { claimId: claim.claimId, details }, { budget, model: { temperature: 0 } }));
    await handled(2);
    expect(model.doGenerateCalls).toHaveLength(1);
    expect(await lastEvent('claim-limits-1', CLAIM_CLASSIFIED)).toEqual({
      severity: 'low',
      reason: expect.any(String),
      classifier: 'chain/fallback/offline-rules/claims-assessor (workflow budget exhausted)',
      usage: null,
    });
    expect(budgetLines).toEqual(['agents/claims-assessor: workflow claim-limits-1 has made 1 of its 1 model calls; the non-LLM fallback answers without a model']);
    expect(warnings).toContain('model scripted/claims-1 gave up (budget_exhausted), falling back to fallback/offline-rules/claims-assessor');
    expect((await usage.spent('claim-limits-1')).modelCalls).toBe(1);
  });

  it('hold a task to the environment\u2019s limit when it is stricter than the declared one', async () => {
    await usage.record('claim-limits-2', 'run-earlier', { iterations: 1, inputTokens: 900, outputTokens: 100, costUsd: 0, servedBy: ['scripted/claims-1'] });
    const calls = model.doGenerateCalls.length;
    const task = claimTask(CLAIM_AGENTS.assessor, 'claim-limits-2', 0, { claimId: claim.claimId, details }, { budget: { maxTokens: 50_000, maxModelCalls: 10 } });
    await publishEnvelope(connection.jetstream(), agentTaskSubject(CLAIM_AGENTS.assessor.agent), task);
    await handled(3);
    expect(model.doGenerateCalls).toHaveLength(calls);
    expect(await lastEvent('claim-limits-2', CLAIM_CLASSIFIED)).toMatchObject({ classifier: 'chain/fallback/offline-rules/claims-assessor (workflow budget exhausted)' });
    expect(budgetLines.at(-1)).toBe('agents/claims-assessor: workflow claim-limits-2 has spent 1000 of its 1000 tokens; the non-LLM fallback answers without a model');
  });
});
