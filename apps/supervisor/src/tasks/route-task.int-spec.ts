import type { INestMicroservice } from '@nestjs/common';
import { MockLanguageModelV3 } from 'ai/test';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KvWorkflowUsage, ModelChain, ModelFallbackReporter, ProviderBreakers, WorkflowCallBudget } from '@troupe/agent-kit';
import { createJetStreamMicroservice, listDeadLetters, provisionStreams, publishEnvelope, type JetStreamServer } from '@troupe/bus';
import {
  AGENT_TASK_REQUESTED,
  APPROVAL_DECIDED,
  ROUTE_DECIDED,
  ROUTE_DECIDE_TASK,
  RouteDecided,
  STREAMS,
  TRIAGE_AGENTS,
  agentConsumer,
  agentTaskSubject,
  decodeEnvelope,
  workflowEventTypeSubject,
  type Email,
  type Envelope,
  type RouteCandidate,
} from '@troupe/contracts';
import { pollUntil, startNatsServer, type NatsServerHandle } from '@troupe/testing';
import { ChainRouter, headerRuleFallback } from '../routing/chain-router';
import { HeaderRuleRouter } from '../routing/header-rule-router';
import { SupervisionStarter } from '../supervision/supervision-starter';
import { SupervisorModule } from '../supervisor.module';

// The supervisor's task queue on real NATS: a routing decision made by a model counts its tokens and cost
// in the parent workflow's budget (the agents' KV bucket), once per task, and no model is asked once that
// budget is spent; a task whose envelope type does
// not belong on the queue is dead-lettered and the consumer goes on.

const email: Email = { messageId: '<1@x>', from: 'ann@example.org', to: 'me@example.org', subject: 'Lunch?', date: null, text: 'Are you free on Friday?', headers: {}, origin: {} };
const candidates: RouteCandidate[] = [
  { route: 'summarise', specialist: 'summariser', task: 'email.summarise', description: 'Summaries', resultEventType: 'email.summarised' },
  { route: 'draft_reply', specialist: 'drafter', task: 'reply.draft', description: 'Replies', resultEventType: 'reply.drafted' },
];
const modelUsage = { inputTokens: { total: 300, noCache: undefined, cacheRead: undefined, cacheWrite: undefined }, outputTokens: { total: 20, text: undefined, reasoning: undefined } };

let nats: NatsServerHandle;
let connection: NatsConnection;
let app: INestMicroservice;
let server: JetStreamServer;
let usage: KvWorkflowUsage;
let modelCalls = 0;
const budgetLines: string[] = [];
const warnings: string[] = [];

/** A router task for the supervision of `workflowId`; `legacy` names the workflow in the input, as tasks emitted before `budgetWorkflowId` did. */
function routeTask(n: number, overrides: Partial<Envelope> = {}, workflowId = 'triage-budget-1', legacy = false): Envelope {
  const supervision = `sup-${workflowId}_0_1`;
  const input = { input: { email }, candidates, ...(legacy ? { workflowId } : {}) };
  return {
    id: `task-${n}`,
    type: AGENT_TASK_REQUESTED,
    workflowId: supervision,
    correlationId: workflowId,
    causationId: null,
    occurredAt: new Date().toISOString(),
    source: 'route-task.int-spec',
    payload: { effectId: `${supervision}:1:0`, agent: TRIAGE_AGENTS.supervisor.agent, task: ROUTE_DECIDE_TASK, input, ...(legacy ? {} : { budgetWorkflowId: workflowId }) },
    ...overrides,
  };
}

async function handled(count: number): Promise<void> {
  await pollUntil(() => server.counters.acked + server.counters.deadLettered, (n) => n >= count);
  expect(server.counters.acked + server.counters.deadLettered).toBe(count);
}

async function lastOn(subject: string): Promise<Envelope | null> {
  const jsm = await connection.jetstreamManager();
  const message = await jsm.streams.getMessage(STREAMS.workflowEvents.name, { last_by_subj: subject }).catch(() => null);
  return message === null ? null : decodeEnvelope(message.data);
}

beforeAll(async () => {
  nats = await startNatsServer();
  connection = await connect({ servers: nats.url });
  await provisionStreams(await connection.jetstreamManager());
  const js = connection.jetstream();
  usage = await KvWorkflowUsage.open(js);
  const model = new MockLanguageModelV3({
    doGenerate: async () => {
      modelCalls += 1;
      return { content: [{ type: 'text', text: '{"route":"draft_reply","confidence":0.9,"reason":"a personal question"}' }], finishReason: { unified: 'stop', raw: 'stop' }, usage: modelUsage, warnings: [] };
    },
  });
  const rules = new HeaderRuleRouter();
  const router = new ChainRouter(
    new ModelChain({
      models: [model],
      fallback: headerRuleFallback(rules),
      breakers: new ProviderBreakers(undefined, new ModelFallbackReporter({ logger: { warn: (line) => warnings.push(line), log: () => undefined } })),
      // 300 input tokens at 2 USD and 20 output tokens at 10 USD per million: 0.0008 USD.
      prices: { 'mock-model-id': { inputUsdPerMillionTokens: 2, outputUsdPerMillionTokens: 10 } },
      resilience: { attemptsPerModel: 1 },
    }),
  );
  const supervisions = new SupervisionStarter({ js, advertisements: async () => [], confidenceThreshold: 0, joinTimeoutMs: 60_000 });
  ({ app, server } = await createJetStreamMicroservice(SupervisorModule.forRoot({ router, js, supervisions, budget: new WorkflowCallBudget(usage, { maxTokens: 5_000, maxCostUsd: 1 }, { log: (line) => budgetLines.push(line) }) }), {
    connection,
    consumers: [agentConsumer(TRIAGE_AGENTS.supervisor.agent)],
    logger: ['error'],
  }));
  await app.listen();
});

afterAll(async () => {
  await app?.close();
  await connection?.close();
  await nats?.stop();
});

describe('the supervisor task queue', () => {
  it("counts the router's model call in the parent workflow's budget, once per task", async () => {
    // The workflow has spent 1,000 tokens in an earlier agent run.
    await usage.record('triage-budget-1', 'run-earlier', { iterations: 1, inputTokens: 900, outputTokens: 100, costUsd: 0.01, servedBy: ['x'] });
    const js = connection.jetstream();
    await publishEnvelope(js, agentTaskSubject(TRIAGE_AGENTS.supervisor.agent), routeTask(1));
    await handled(1);
    const decided = await lastOn(workflowEventTypeSubject('sup-triage-budget-1_0_1', ROUTE_DECIDED));
    expect(RouteDecided.parse(decided?.payload)).toMatchObject({ route: 'draft_reply', router: 'chain/mock-provider/mock-model-id' });
    const spent = await usage.spent('triage-budget-1');
    expect(spent.tokens).toBe(1_000 + 320);
    expect(spent.costUsd).toBeCloseTo(0.01 + 0.0008, 10);
    expect(spent.runIds).toEqual(['run-earlier', 'sup-triage-budget-1_0_1:1:0']);

    // The same task redelivered (a new message, same effect id), in the form emitted before budgetWorkflowId
    // (the workflow named in the input): the model answers again, counted once.
    await publishEnvelope(js, agentTaskSubject(TRIAGE_AGENTS.supervisor.agent), routeTask(2, {}, 'triage-budget-1', true));
    await handled(2);
    expect(modelCalls).toBe(2);
    expect((await usage.spent('triage-budget-1')).tokens).toBe(1_320);
    // The supervision id is not the workflow: nothing was counted there.
    expect((await usage.spent('sup-triage-budget-1_0_1')).tokens).toBe(0);
  });

  it("asks no model once the workflow's budget is spent: the header rules decide, and the decision says why", async () => {
    await usage.record('triage-budget-4', 'run-earlier', { iterations: 2, inputTokens: 4_500, outputTokens: 500, costUsd: 0.05, servedBy: ['x'] });
    const calls = modelCalls;
    const before = server.counters.acked + server.counters.deadLettered;
    await publishEnvelope(connection.jetstream(), agentTaskSubject(TRIAGE_AGENTS.supervisor.agent), routeTask(5, {}, 'triage-budget-4'));
    await handled(before + 1);
    expect(modelCalls).toBe(calls);
    const decided = RouteDecided.parse((await lastOn(workflowEventTypeSubject('sup-triage-budget-4_0_1', ROUTE_DECIDED)))?.payload);
    expect(decided).toMatchObject({ route: 'draft_reply', router: 'chain/fallback/header-rules (workflow budget exhausted)' });
    expect(decided.reason).toMatch(/\(the model was not asked: workflow triage-budget-4 has spent 5000 of its 5000 tokens\)$/);
    expect((await usage.spent('triage-budget-4')).tokens).toBe(5_000);
    expect(budgetLines).toEqual(['supervisor/router: workflow triage-budget-4 has spent 5000 of its 5000 tokens; the non-LLM fallback answers without a model']);
    expect(warnings).toEqual(['model mock-provider/mock-model-id gave up (budget_exhausted), falling back to fallback/header-rules']);
  });

  it('dead-letters a task whose envelope type does not belong on the queue, and goes on with the next', async () => {
    const js = connection.jetstream();
    const before = server.counters.acked + server.counters.deadLettered;
    const smuggled = routeTask(3, { id: 'smuggled-1', type: APPROVAL_DECIDED }, 'triage-budget-2');
    await publishEnvelope(js, agentTaskSubject(TRIAGE_AGENTS.supervisor.agent), smuggled);
    await publishEnvelope(js, agentTaskSubject(TRIAGE_AGENTS.supervisor.agent), routeTask(4, {}, 'triage-budget-3'));
    await handled(before + 2);
    expect(server.counters.deadLettered).toBe(1);
    const [letter] = await listDeadLetters(connection, { origin: 'agent-supervisor' });
    expect(letter.deadLetter).toMatchObject({
      errorCode: 'SUBJECT_MISMATCH',
      reason: 'approval.decided for sup-triage-budget-2_0_1 arrived on troupe.agent.supervisor.task; an agent task queue carries only agent.task_requested',
      origin: { subject: agentTaskSubject(TRIAGE_AGENTS.supervisor.agent), consumer: 'agent-supervisor' },
    });
    // The mismatched task was not acted on; the matching one was.
    expect(await lastOn(workflowEventTypeSubject('sup-triage-budget-2_0_1', ROUTE_DECIDED))).toBeNull();
    expect((await usage.spent('triage-budget-2')).tokens).toBe(0);
    expect((await lastOn(workflowEventTypeSubject('sup-triage-budget-3_0_1', ROUTE_DECIDED)))?.type).toBe(ROUTE_DECIDED);
    expect((await usage.spent('triage-budget-3')).tokens).toBe(320);
  });
});
