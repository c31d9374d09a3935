import type { INestMicroservice } from '@nestjs/common';
import { APICallError } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KvWorkflowUsage, ModelChain, ModelFallbackReporter, ProviderBreakers, WorkflowCallBudget } from '@troupe/agent-kit';
import { createJetStreamMicroservice, listDeadLetters, provisionStreams, publishEnvelope, type JetStreamServer } from '@troupe/bus';
import {
  AGENT_TASK_REQUESTED,
  CLAIM_AGENTS,
  CLAIM_CLASSIFIED,
  ClaimClassified,
  EMAIL_CLASSIFIED,
  INCIDENT_AGENTS,
  INCIDENT_DIAGNOSED,
  IncidentDiagnosed,
  IncidentTaskInput,
  EmailClassified,
  EMAIL_SUMMARISED,
  EmailSummarised,
  REPLY_DRAFTED,
  REPLY_SEND,
  ReplyDrafted,
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
import { detectAlerts, loadSuthaharanReadings } from '@troupe/sensor-data';
import { incidentResponseMachine, incidentTaskInput } from '@troupe/statecharts';
import { initialTransition } from 'xstate';
import { AgentsModule } from '../agents.module';
import { openClaimLedgers } from '../claims/claim-ledgers';
import { modelClaimAgents } from '../claims/claim-agents';
import { ModelSpamClassifier, classifierFallback } from '../classifier/model-spam-classifier';
import type { SpamClassifier } from '../classifier/spam-classifier';
import { ModelReplyDrafter, drafterFallback } from '../drafter/model-reply-drafter';
import { TemplateReplyDrafter } from '../drafter/template-reply-drafter';
import { createIncidentAgents } from '../incidents/create-incident-agents';
import { RuleIncidentDiagnoser } from '../incidents/incident-agents';
import { ModelIncidentDiagnoser, ruleDiagnosisFallback } from '../incidents/model-incident-diagnoser';
import type { ChainFactory } from '../model-chains';
import { RuleSpamQuarantiner } from '../quarantine/spam-quarantiner';
import { ExtractiveSummariser } from '../summariser/extractive-summariser';
import { ModelSummariser, summariserFallback } from '../summariser/model-summariser';

// The agents' work queues on real NATS: the model classifier (TROUPE_CLASSIFIER=model), the model drafter
// and summariser (TROUPE_REACT_LOOP=never), the incident diagnoser and a claim agent answer through model
// chains sharing one set of breakers, counting their
// tokens in the workflow's budget, falling back to their offline stand-ins when the model is down or the
// workflow's budget is spent; a task or effect whose envelope type does not belong on its queue is dead-lettered.

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
let modelCalls = 0;
const warnings: string[] = [];
const budgetLines: string[] = [];

const [alert] = detectAlerts(loadSuthaharanReadings()).alerts;
const diagnosis = { severity: 'critical', cause: 'kettle near mote', transient: false, proposedFix: { action: 'inspect-enclosure', description: 'remove it' }, confidence: 0.7 };
const claimDetails = { policyNumber: 'POL-1', claimType: 'property', incidentDate: '2026-01-02', amountUsd: 100, injuries: false, policeReport: false, description: 'A small dent.' };

/** An agent task of `agent` for `workflowId` (effect `<workflowId>:1:0`; `n` tells redeliveries apart). */
function task(agent: { agent: string; task: string }, workflowId: string, input: unknown, n = 1, overrides: Partial<Envelope> = {}): Envelope {
  return {
    id: `task-${workflowId}-${agent.agent}-${n}`,
    type: AGENT_TASK_REQUESTED,
    workflowId,
    correlationId: workflowId,
    causationId: null,
    occurredAt: new Date().toISOString(),
    source: 'agent-tasks.int-spec',
    payload: { effectId: `${workflowId}:1:0`, agent: agent.agent, task: agent.task, input },
    ...overrides,
  };
}

function incidentInput(workflowId: string): IncidentTaskInput {
  const [snapshot] = initialTransition(incidentResponseMachine, { workflowId, alert, approvalTimeoutMs: 1, escalationTimeoutMs: 1 });
  return IncidentTaskInput.parse(incidentTaskInput(snapshot.context));
}

async function lastEvent(workflowId: string, type: string): Promise<unknown> {
  const jsm = await connection.jetstreamManager();
  const message = await jsm.streams.getMessage(STREAMS.workflowEvents.name, { last_by_subj: workflowEventTypeSubject(workflowId, type) }).catch(() => null);
  return message === null ? null : decodeEnvelope(message.data).payload;
}

function classifyTask(workflowId: string, n: number, overrides: Partial<Envelope> = {}): Envelope {
  return task(TRIAGE_AGENTS.classifier, workflowId, { email }, n, overrides);
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
    doGenerate: async ({ prompt }) => {
      modelCalls += 1;
      if (modelDown) throw new APICallError({ message: 'connection refused', url: 'u', requestBodyValues: {} });
      const system = JSON.stringify(prompt.filter((message) => message.role === 'system'));
      const text = system.includes('TelosB')
        ? JSON.stringify(diagnosis)
        : system.includes('insurance claims')
          ? '{"severity":"high","reason":"a fire"}'
          : system.includes('You draft email replies')
            ? '{"body":"Hello, no prize for you. [confirm]","reasoning":"a polite no"}'
            : system.includes('You summarise mailing-list')
              ? '{"summary":"A prize claim."}'
              : '{"label":"ham","confidence":0.93}';
      return { content: [{ type: 'text', text }], finishReason: { unified: 'stop', raw: 'stop' }, usage: tokens, warnings: [] };
    },
  });
  // One set of breakers for the process's chains; the fallback warnings are kept for the assertions.
  const breakers = new ProviderBreakers({ breakerThreshold: 100, halfOpenAfterMs: 60_000 }, new ModelFallbackReporter({ logger: { warn: (message) => warnings.push(message), log: () => undefined } }));
  const chains: ChainFactory = (fallback) =>
    new ModelChain({
      models: [model],
      fallback,
      breakers,
      // 120 input tokens at 5 USD and 8 output tokens at 25 USD per million: 0.0008 USD.
      prices: { 'judge-1': { inputUsdPerMillionTokens: 5, outputUsdPerMillionTokens: 25 } },
      resilience: { attemptsPerModel: 2, initialDelayMs: 1, maxDelayMs: 1 },
    });
  const specialists = {
    classifier: new ModelSpamClassifier(chains(classifierFallback(offline))),
    drafter: new ModelReplyDrafter(chains(drafterFallback(new TemplateReplyDrafter(), 'template'))),
    summariser: new ModelSummariser(chains(summariserFallback(new ExtractiveSummariser(), 'extractive'))),
    quarantiner: new RuleSpamQuarantiner(),
  };
  ({ app, server } = await createJetStreamMicroservice(
    AgentsModule.forRoot({
      specialists,
      sentMail: persistence.sentMail,
      js,
      agentHost: null,
      incidents: { ...createIncidentAgents({}, null), diagnoser: new ModelIncidentDiagnoser(chains(ruleDiagnosisFallback(new RuleIncidentDiagnoser()))) },
      claims: { agents: modelClaimAgents(chains), ledgers: await openClaimLedgers(connection) },
      // A workflow may spend 1,000 tokens.
      budget: new WorkflowCallBudget(usage, { maxTokens: 1_000, maxCostUsd: 1 }, { log: (message) => budgetLines.push(message) }),
    }),
    {
      connection,
      consumers: [
        agentConsumer(TRIAGE_AGENTS.classifier.agent),
        agentConsumer(TRIAGE_AGENTS.drafter.agent),
        agentConsumer(TRIAGE_AGENTS.summariser.agent),
        effectConsumer(REPLY_SEND),
        agentConsumer(INCIDENT_AGENTS.diagnoser.agent),
        agentConsumer(CLAIM_AGENTS.assessor.agent),
      ],
      logger: ['error'],
    },
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

  it("diagnoses an incident and assesses a claim through the model chain, counting their tokens in each workflow's budget", async () => {
    const js = connection.jetstream();
    await publishEnvelope(js, agentTaskSubject(INCIDENT_AGENTS.diagnoser.agent), task(INCIDENT_AGENTS.diagnoser, 'incident-usage-1', incidentInput('incident-usage-1')));
    await publishEnvelope(js, agentTaskSubject(CLAIM_AGENTS.assessor.agent), task(CLAIM_AGENTS.assessor, 'claim-usage-1', { claimId: 'c-1', details: claimDetails }));
    await handled(9);
    // The payloads are the contracts' (strict: the chain's usage is not published).
    expect(IncidentDiagnosed.strict().parse(await lastEvent('incident-usage-1', INCIDENT_DIAGNOSED))).toMatchObject({
      cause: 'kettle near mote',
      diagnoser: 'chain/judge/judge-1',
      inputTokens: 120,
      outputTokens: 8,
    });
    expect(ClaimClassified.strict().parse(await lastEvent('claim-usage-1', CLAIM_CLASSIFIED))).toEqual({
      severity: 'high',
      reason: 'a fire',
      classifier: 'chain/judge/judge-1',
      usage: { model: 'judge/judge-1', inputTokens: 120, outputTokens: 8 },
    });
    for (const workflowId of ['incident-usage-1', 'claim-usage-1']) {
      expect(await usage.spent(workflowId)).toMatchObject({ tokens: 128, runIds: [`${workflowId}:1:0`] });
      expect((await usage.spent(workflowId)).costUsd).toBeCloseTo(0.0008, 10);
    }
  });

  it('asks no model once the workflow has spent its budget: the non-LLM fallback answers and says why', async () => {
    const js = connection.jetstream();
    for (const workflowId of ['triage-spent-1', 'incident-spent-1', 'claim-spent-1']) {
      await usage.record(workflowId, 'run-earlier', { iterations: 3, inputTokens: 900, outputTokens: 100, costUsd: 0.01, servedBy: ['judge/judge-1'] });
    }
    const calls = modelCalls;
    await publishEnvelope(js, agentTaskSubject(TRIAGE_AGENTS.classifier.agent), classifyTask('triage-spent-1', 1));
    await publishEnvelope(js, agentTaskSubject(INCIDENT_AGENTS.diagnoser.agent), task(INCIDENT_AGENTS.diagnoser, 'incident-spent-1', incidentInput('incident-spent-1')));
    await publishEnvelope(js, agentTaskSubject(CLAIM_AGENTS.assessor.agent), task(CLAIM_AGENTS.assessor, 'claim-spent-1', { claimId: 'c-2', details: claimDetails }));
    await handled(12);
    expect(modelCalls).toBe(calls);
    expect(await classified('triage-spent-1')).toEqual({ label: 'spam', confidence: 0.8, classifier: 'chain/fallback/naive-bayes/test (workflow budget exhausted)' });
    expect(await lastEvent('incident-spent-1', INCIDENT_DIAGNOSED)).toMatchObject({ diagnoser: 'chain/fallback/offline/rules (workflow budget exhausted)', inputTokens: null });
    expect(await lastEvent('claim-spent-1', CLAIM_CLASSIFIED)).toMatchObject({ severity: 'low', classifier: 'chain/fallback/offline-rules/claims-assessor (workflow budget exhausted)', usage: null });
    for (const workflowId of ['triage-spent-1', 'incident-spent-1', 'claim-spent-1']) {
      expect(await usage.spent(workflowId)).toMatchObject({ tokens: 1_000, runIds: ['run-earlier'] });
    }
    // Said in a log line per call (naming the workflow) and as a fallback hop with reason budget_exhausted.
    expect(budgetLines).toEqual([
      'agents/classifier: workflow triage-spent-1 has spent 1000 of its 1000 tokens; the non-LLM fallback answers without a model',
      'agents/incident-diagnoser: workflow incident-spent-1 has spent 1000 of its 1000 tokens; the non-LLM fallback answers without a model',
      'agents/claims-assessor: workflow claim-spent-1 has spent 1000 of its 1000 tokens; the non-LLM fallback answers without a model',
    ]);
    expect(warnings).toContain('model judge/judge-1 gave up (budget_exhausted), falling back to fallback/naive-bayes/test');
  });

  it("drafts and summarises through the model chain (TROUPE_REACT_LOOP=never), counting the tokens in the workflow's budget; none once it is spent", async () => {
    const js = connection.jetstream();
    await publishEnvelope(js, agentTaskSubject(TRIAGE_AGENTS.drafter.agent), task(TRIAGE_AGENTS.drafter, 'triage-draft-1', { email }));
    await publishEnvelope(js, agentTaskSubject(TRIAGE_AGENTS.summariser.agent), task(TRIAGE_AGENTS.summariser, 'triage-summary-1', { email }));
    await handled(14);
    // The payloads are the contracts' (strict: the chain's usage is not published).
    expect(ReplyDrafted.strict().parse(await lastEvent('triage-draft-1', REPLY_DRAFTED))).toEqual({
      to: 'promo@example.com',
      subject: 'Re: You have WON',
      body: 'Hello, no prize for you. [confirm]',
      reasoning: 'a polite no',
      drafter: 'chain/judge/judge-1',
    });
    expect(EmailSummarised.strict().parse(await lastEvent('triage-summary-1', EMAIL_SUMMARISED))).toEqual({ summary: 'A prize claim.', summariser: 'chain/judge/judge-1' });
    for (const workflowId of ['triage-draft-1', 'triage-summary-1']) {
      expect(await usage.spent(workflowId)).toMatchObject({ tokens: 128, runIds: [`${workflowId}:1:0`] });
      expect((await usage.spent(workflowId)).costUsd).toBeCloseTo(0.0008, 10);
    }

    // A workflow that has spent its budget: the template and the extractive summariser answer, no model is asked.
    for (const workflowId of ['triage-draft-spent', 'triage-summary-spent']) {
      await usage.record(workflowId, 'run-earlier', { iterations: 3, inputTokens: 900, outputTokens: 100, costUsd: 0.01, servedBy: ['judge/judge-1'] });
    }
    const calls = modelCalls;
    budgetLines.length = 0;
    await publishEnvelope(js, agentTaskSubject(TRIAGE_AGENTS.drafter.agent), task(TRIAGE_AGENTS.drafter, 'triage-draft-spent', { email }));
    await handled(15);
    await publishEnvelope(js, agentTaskSubject(TRIAGE_AGENTS.summariser.agent), task(TRIAGE_AGENTS.summariser, 'triage-summary-spent', { email }));
    await handled(16);
    expect(modelCalls).toBe(calls);
    expect(await lastEvent('triage-draft-spent', REPLY_DRAFTED)).toMatchObject({ drafter: 'chain/fallback/template (workflow budget exhausted)', to: 'promo@example.com' });
    expect(await lastEvent('triage-summary-spent', EMAIL_SUMMARISED)).toMatchObject({ summariser: 'chain/fallback/extractive (workflow budget exhausted)' });
    for (const workflowId of ['triage-draft-spent', 'triage-summary-spent']) {
      expect(await usage.spent(workflowId)).toMatchObject({ tokens: 1_000, runIds: ['run-earlier'] });
    }
    expect(budgetLines).toEqual([
      'agents/drafter: workflow triage-draft-spent has spent 1000 of its 1000 tokens; the non-LLM fallback answers without a model',
      'agents/summariser: workflow triage-summary-spent has spent 1000 of its 1000 tokens; the non-LLM fallback answers without a model',
    ]);
    expect(warnings).toContain('model judge/judge-1 gave up (budget_exhausted), falling back to fallback/template');
    expect(warnings).toContain('model judge/judge-1 gave up (budget_exhausted), falling back to fallback/extractive');
  });
});
