import type { INestMicroservice } from '@nestjs/common';
import { APICallError } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KvWorkflowUsage, ModelChain, ModelFallbackReporter, ProviderBreakers } from '@troupe/agent-kit';
import { createJetStreamMicroservice, listDeadLetters, provisionStreams, publishEnvelope, type JetStreamServer } from '@troupe/bus';
import {
  AGENT_TASK_REQUESTED,
  EMAIL_CLASSIFIED,
  EmailClassified,
  REPLY_SEND,
  REPLY_SEND_REQUESTED,
  STREAMS,
  TRIAGE_AGENTS,
  agentConsumer,
  agentTaskSubject,
  decodeEnvelope,
  effectSubject,
  effectConsumer,
  workflowEventTypeSubject,
  type Email,
  type Envelope,
} from '@troupe/contracts';
import { createPersistence, type Persistence } from '@troupe/persistence';
import { pollUntil, startNatsServer, type NatsServerHandle } from '@troupe/testing';
import { AgentsModule } from '../agents.module';
import { openClaimLedgers } from '../claims/claim-ledgers';
import { offlineClaimAgents } from '../claims/claim-agents';
import { ModelSpamClassifier, classifierFallback } from '../classifier/model-spam-classifier';
import type { SpamClassifier } from '../classifier/spam-classifier';
import { TemplateReplyDrafter } from '../drafter/template-reply-drafter';
import { createIncidentAgents } from '../incidents/create-incident-agents';
import { RuleSpamQuarantiner } from '../quarantine/spam-quarantiner';
import { ExtractiveSummariser } from '../summariser/extractive-summariser';

// The agents' work queues on real NATS: the model classifier (TROUPE_CLASSIFIER=model) answers through the
// model chain, counting its tokens in the workflow's budget and falling back to the offline classifier when
// the model is down; a task or effect whose envelope type does not belong on its queue is dead-lettered.

const email: Email = { messageId: '<1@x>', from: 'promo@example.com', to: 'me@example.org', subject: 'You have WON', date: null, text: 'Claim your prize.', headers: {}, origin: {} };
const tokens = { inputTokens: { total: 120, noCache: undefined, cacheRead: undefined, cacheWrite: undefined }, outputTokens: { total: 8, text: undefined, reasoning: undefined } };
const offline: SpamClassifier = { name: 'naive-bayes/test', classify: async () => ({ label: 'spam', confidence: 0.8, classifier: 'naive-bayes/test' }) };

let nats: NatsServerHandle;
let connection: NatsConnection;
let persistence: Persistence;
let app: INestMicroservice;
let server: JetStreamServer;
let usage: KvWorkflowUsage;
let modelDown = false;

function classifyTask(workflowId: string, n: number, overrides: Partial<Envelope> = {}): Envelope {
  return {
    id: `task-${workflowId}-${n}`,
    type: AGENT_TASK_REQUESTED,
    workflowId,
    correlationId: workflowId,
    causationId: null,
    occurredAt: new Date().toISOString(),
    source: 'agent-tasks.int-spec',
    payload: { effectId: `${workflowId}:1:0`, agent: TRIAGE_AGENTS.classifier.agent, task: TRIAGE_AGENTS.classifier.task, input: { email } },
    ...overrides,
  };
}

async function handled(count: number): Promise<void> {
  await pollUntil(() => server.counters.acked + server.counters.deadLettered, (n) => n >= count);
  expect(server.counters.acked + server.counters.deadLettered).toBe(count);
}

async function classified(workflowId: string): Promise<EmailClassified | null> {
  const jsm = await connection.jetstreamManager();
  const message = await jsm.streams.getMessage(STREAMS.workflowEvents.name, { last_by_subj: workflowEventTypeSubject(workflowId, EMAIL_CLASSIFIED) }).catch(() => null);
  return message === null ? null : EmailClassified.strict().parse(decodeEnvelope(message.data).payload);
}

beforeAll(async () => {
  nats = await startNatsServer();
  connection = await connect({ servers: nats.url });
  await provisionStreams(await connection.jetstreamManager());
  persistence = await createPersistence({ nats: connection });
  const js = connection.jetstream();
  usage = await KvWorkflowUsage.open(js);
  const model = new MockLanguageModelV3({
    provider: 'judge',
    modelId: 'judge-1',
    doGenerate: async () => {
      if (modelDown) throw new APICallError({ message: 'connection refused', url: 'u', requestBodyValues: {} });
      return { content: [{ type: 'text', text: '{"label":"ham","confidence":0.93}' }], finishReason: { unified: 'stop', raw: 'stop' }, usage: tokens, warnings: [] };
    },
  });
  const chain = new ModelChain({
    models: [model],
    fallback: classifierFallback(offline),
    breakers: new ProviderBreakers({ breakerThreshold: 100, halfOpenAfterMs: 60_000 }, new ModelFallbackReporter({ logger: { warn: () => undefined, log: () => undefined } })),
    // 120 input tokens at 5 USD and 8 output tokens at 25 USD per million: 0.0008 USD.
    prices: { 'judge-1': { inputUsdPerMillionTokens: 5, outputUsdPerMillionTokens: 25 } },
    resilience: { attemptsPerModel: 2, initialDelayMs: 1, maxDelayMs: 1 },
  });
  const specialists = { classifier: new ModelSpamClassifier(chain, offline), drafter: new TemplateReplyDrafter(), summariser: new ExtractiveSummariser(), quarantiner: new RuleSpamQuarantiner() };
  ({ app, server } = await createJetStreamMicroservice(
    AgentsModule.forRoot({
      specialists,
      sentMail: persistence.sentMail,
      js,
      agentHost: null,
      incidents: createIncidentAgents({}),
      claims: { agents: offlineClaimAgents(), ledgers: await openClaimLedgers(connection) },
      usage,
    }),
    { connection, consumers: [agentConsumer(TRIAGE_AGENTS.classifier.agent), effectConsumer(REPLY_SEND)], logger: ['error'] },
  ));
  await app.listen();
});

afterAll(async () => {
  await app?.close();
  await persistence?.close();
  await connection?.close();
  await nats?.stop();
});

describe('the agents work queues', () => {
  it("classifies through the model chain and counts the model's tokens in the workflow's budget, once per task", async () => {
    const js = connection.jetstream();
    await publishEnvelope(js, agentTaskSubject(TRIAGE_AGENTS.classifier.agent), classifyTask('triage-cls-1', 1));
    await handled(1);
    // The payload is the contract's, without the usage (strict parse).
    expect(await classified('triage-cls-1')).toEqual({ label: 'ham', confidence: 0.93, classifier: 'chain/judge/judge-1' });
    expect(await usage.spent('triage-cls-1')).toMatchObject({ tokens: 128, runIds: ['triage-cls-1:1:0'] });
    expect((await usage.spent('triage-cls-1')).costUsd).toBeCloseTo(0.0008, 10);
    // Redelivered (a new message with the same effect id): counted once.
    await publishEnvelope(js, agentTaskSubject(TRIAGE_AGENTS.classifier.agent), classifyTask('triage-cls-1', 2));
    await handled(2);
    expect((await usage.spent('triage-cls-1')).tokens).toBe(128);
  });

  it("counts a fanned-out classifier task against the supervised workflow's budget, not the supervision's", async () => {
    const task = classifyTask('sup-triage-cls-6_1_0', 1);
    const payload = { ...(task.payload as object), budgetWorkflowId: 'triage-cls-6' };
    await publishEnvelope(connection.jetstream(), agentTaskSubject(TRIAGE_AGENTS.classifier.agent), { ...task, payload });
    await handled(3);
    expect(await classified('sup-triage-cls-6_1_0')).toMatchObject({ label: 'ham' });
    expect(await usage.spent('triage-cls-6')).toMatchObject({ tokens: 128, runIds: ['sup-triage-cls-6_1_0:1:0'] });
    expect((await usage.spent('sup-triage-cls-6_1_0')).tokens).toBe(0);
  });

  it('falls back to the offline classifier when the model cannot be reached, spending nothing', async () => {
    modelDown = true;
    try {
      await publishEnvelope(connection.jetstream(), agentTaskSubject(TRIAGE_AGENTS.classifier.agent), classifyTask('triage-cls-2', 1));
      await handled(4);
      expect(await classified('triage-cls-2')).toEqual({ label: 'spam', confidence: 0.8, classifier: 'chain/fallback/naive-bayes/test' });
      expect((await usage.spent('triage-cls-2')).tokens).toBe(0);
    } finally {
      modelDown = false;
    }
  });

  it('dead-letters a task or effect whose envelope type does not belong on its queue, and goes on with the next', async () => {
    const js = connection.jetstream();
    // A well-formed classifier task smuggled in as a reply-send, and one typed as something else.
    await publishEnvelope(js, effectSubject(REPLY_SEND), classifyTask('triage-cls-3', 1));
    await publishEnvelope(js, agentTaskSubject(TRIAGE_AGENTS.classifier.agent), classifyTask('triage-cls-4', 1, { type: REPLY_SEND_REQUESTED }));
    await publishEnvelope(js, agentTaskSubject(TRIAGE_AGENTS.classifier.agent), classifyTask('triage-cls-5', 1));
    await handled(7);
    expect(server.counters.deadLettered).toBe(2);
    const letters = await listDeadLetters(connection);
    expect(letters.map((letter) => [letter.subject, letter.deadLetter.errorCode, letter.deadLetter.reason])).toEqual(
      expect.arrayContaining([
        ['troupe.dlq.effect-reply-send', 'SUBJECT_MISMATCH', 'agent.task_requested for triage-cls-3 arrived on troupe.effect.reply-send; this effect queue carries only reply.send_requested'],
        ['troupe.dlq.agent-classifier', 'SUBJECT_MISMATCH', 'reply.send_requested for triage-cls-4 arrived on troupe.agent.classifier.task; an agent task queue carries only agent.task_requested'],
      ]),
    );
    expect(await classified('triage-cls-4')).toBeNull();
    expect(await classified('triage-cls-5')).toMatchObject({ label: 'ham' });
  });
});
