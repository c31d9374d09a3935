import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { ActorRuntime, defineWorkflow } from '@troupe/actor-runtime';
import { MockLanguageModelV3 } from 'ai/test';
import {
  AgentHost,
  AgentRegistry,
  InMemoryToolResultStore,
  KvWorkflowUsage,
  ModelChain,
  ModelFallbackReporter,
  ProviderBreakers,
  defineAgent,
  reactLoopWorkflow,
  recordModelCallUsage,
  supervisorRoutingWorkflow,
} from '@troupe/agent-kit';
import { JetStreamServer, provisionStreams, publishEnvelope, runEffect, type JetStreamContext } from '@troupe/bus';
import {
  AGENT_EFFECT_KINDS,
  ALL_TIMERS,
  AgentTaskRequested,
  EMAIL_CLASSIFIED,
  EMAIL_SUMMARISED,
  EmailClassified,
  EmailSummarised,
  ORCHESTRATOR_CONSUMER,
  REPLY_DRAFTED,
  ReplyDrafted,
  SUPERVISION_COMPLETED,
  SUPERVISION_REQUESTED,
  SupervisionCompleted,
  TIMER_CONSUMER,
  agentConsumer,
  agentTaskSubject,
  effectConsumer,
  effectSubject,
  taskBudgetWorkflowId,
  workflowEventSubject,
  type Envelope,
  type RouteCandidate,
  type SupervisionRequested,
} from '@troupe/contracts';
import { createPersistence, type Persistence } from '@troupe/persistence';
import { startNatsServer, type NatsServerHandle } from '@troupe/testing';
import { TimersController } from '../timers/timers.controller';

// The supervisor's fan-out on real NATS: the supervision actor in the ActorRuntime with the orchestrator's
// durable timer service, three specialists answering over their work queues, one slower than the join timeout;
// and a fan-out whose specialists call models (a ReAct run hosted by AgentHost, a one-step task) counting
// their tokens against the supervised workflow's budget, not the supervision's.

/** The result event of the two model-calling specialists of the budget test. */
const NOTE_WRITTEN = 'note.written';
const NoteWritten = z.object({ note: z.string() });
const tokens = (input: number, output: number) => ({
  inputTokens: { total: input, noCache: undefined, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: output, text: undefined, reasoning: undefined },
});

/** A parent that waits for the join. */
const parentMachine = setup({
  types: { context: {} as { result: SupervisionCompleted | null }, events: {} as { type: 'supervision.completed'; payload: SupervisionCompleted } },
}).createMachine({
  id: 'parent',
  initial: 'waiting',
  context: { result: null },
  states: { waiting: { on: { 'supervision.completed': { target: 'joined', actions: assign({ result: ({ event }) => event.payload }) } } }, joined: { type: 'final' } },
});
const parentWorkflow = defineWorkflow({
  workflowType: 'fan-out-parent',
  machine: parentMachine,
  machineVersion: '1',
  startEventType: 'parent.started',
  events: { 'parent.started': z.object({}), [SUPERVISION_COMPLETED]: SupervisionCompleted },
  input: () => ({}),
  tags: () => ({}),
});

let nats: NatsServerHandle;
let connection: NatsConnection;
let persistence: Persistence;
const servers: JetStreamServer[] = [];
let releaseSlow: () => void = () => undefined;
let usage: KvWorkflowUsage;

async function listen(server: JetStreamServer): Promise<void> {
  await new Promise<void>((resolve, reject) => server.listen((error?: unknown) => (error ? reject(error as Error) : resolve())));
  servers.push(server);
}

beforeAll(async () => {
  nats = await startNatsServer();
  connection = await connect({ servers: nats.url });
  await provisionStreams(await connection.jetstreamManager());
  persistence = await createPersistence({ nats: connection });
  const js = connection.jetstream();
  const runtime = new ActorRuntime({
    definitions: [
      parentWorkflow,
      reactLoopWorkflow(),
      supervisorRoutingWorkflow({ [EMAIL_CLASSIFIED]: EmailClassified, [EMAIL_SUMMARISED]: EmailSummarised, [REPLY_DRAFTED]: ReplyDrafted, [NOTE_WRITTEN]: NoteWritten }),
    ],
    store: persistence.snapshots,
    journal: persistence.journal,
    publish: async (message) => {
      await publishEnvelope(js, message.subject, message.envelope, { msgId: message.id });
    },
  });
  const timers = new TimersController({ js, now: () => new Date() });
  const orchestrator = new JetStreamServer({ connection, consumers: [ORCHESTRATOR_CONSUMER, TIMER_CONSUMER] });
  orchestrator.addHandler(ORCHESTRATOR_CONSUMER.filterSubject, (envelope: Envelope) => runtime.handle(envelope), true);
  orchestrator.addHandler(ALL_TIMERS, (envelope: Envelope) => timers.fire(envelope), true);
  await listen(orchestrator);

  const slow = new Promise<void>((resolve) => {
    releaseSlow = resolve;
  });
  const specialists = new JetStreamServer({ connection, consumers: ['summariser', 'drafter', 'classifier'].map((agent) => agentConsumer(agent)) });
  const answer = (type: string, payload: () => Promise<unknown>) => (envelope: Envelope, context: JetStreamContext) => {
    const task = AgentTaskRequested.parse(envelope.payload);
    return runEffect(js, { envelope, context, effectId: task.effectId, kind: 'agent.task', source: 'test' }, async () => ({ type, payload: await payload() }));
  };
  specialists.addHandler(agentTaskSubject('summariser'), answer(EMAIL_SUMMARISED, async () => ({ summary: 'A list post about spam filters.', summariser: 'test' })), true);
  specialists.addHandler(agentTaskSubject('classifier'), answer(EMAIL_CLASSIFIED, async () => ({ label: 'ham', confidence: 0.97, classifier: 'test' })), true);
  specialists.addHandler(
    agentTaskSubject('drafter'),
    answer(REPLY_DRAFTED, async () => {
      await slow;
      return { to: 'ann@example.org', subject: 'Re: x', body: 'late', reasoning: 'slow', drafter: 'test' };
    }),
    true,
  );
  await listen(specialists);

  // The budget test's specialists: `note-run` is a ReAct run (AgentHost, as the agents app hosts runs) over a
  // model reporting 100 + 20 tokens; `note-step` makes one model call of 30 + 5 tokens and records it as the
  // agents' one-step tasks do (recordModelCallUsage under the task's budget workflow).
  usage = await KvWorkflowUsage.open(js);
  const model = new MockLanguageModelV3({
    provider: 'judge',
    modelId: 'judge-1',
    doGenerate: async () => ({ content: [{ type: 'text', text: '{"note":"from the run"}' }], finishReason: { unified: 'stop', raw: 'stop' }, usage: tokens(100, 20), warnings: [] }),
  });
  const noteRun = defineAgent({
    name: 'note-run',
    description: 'Writes a note.',
    task: 'note.write',
    resultEventType: NOTE_WRITTEN,
    inputSchema: z.object({ email: z.unknown() }),
    answerSchema: NoteWritten,
    system: 'Write a note.',
    tools: [],
    prompt: () => 'Write a note about the email.',
    toResult: (answer) => answer,
    chain: new ModelChain({ models: [model], fallback: null, breakers: new ProviderBreakers(undefined, new ModelFallbackReporter({ logger: { warn: () => undefined, log: () => undefined } })), prices: {} }),
    budget: { maxIterations: 3, maxTokens: 10_000, maxCostUsd: 1 },
  });
  const host = new AgentHost({ js, agents: new AgentRegistry([noteRun as never]), toolResults: new InMemoryToolResultStore(), source: 'agents/test', usage, workflowLimits: { maxTokens: 100_000, maxCostUsd: 10 } });
  const agents = new JetStreamServer({
    connection,
    consumers: [agentConsumer('note-run'), agentConsumer('note-step'), effectConsumer(AGENT_EFFECT_KINDS.modelCall), effectConsumer(AGENT_EFFECT_KINDS.agentResult)],
  });
  agents.addHandler(agentTaskSubject('note-run'), (envelope: Envelope) => host.startRun('note-run', envelope), true);
  agents.addHandler(effectSubject(AGENT_EFFECT_KINDS.modelCall), (envelope: Envelope, context: JetStreamContext) => host.modelCall(envelope, context), true);
  agents.addHandler(effectSubject(AGENT_EFFECT_KINDS.agentResult), (envelope: Envelope) => host.agentResult(envelope), true);
  agents.addHandler(agentTaskSubject('note-step'), (envelope: Envelope, context: JetStreamContext) => {
    const task = AgentTaskRequested.parse(envelope.payload);
    return runEffect(js, { envelope, context, effectId: task.effectId, kind: 'agent.task', source: 'test' }, async () => {
      await recordModelCallUsage(usage, taskBudgetWorkflowId(envelope, task), task.effectId, { model: 'judge/judge-1', inputTokens: 30, outputTokens: 5, latencyMs: 1, costUsd: 0 });
      return { type: NOTE_WRITTEN, payload: { note: 'from one step' } };
    });
  }, true);
  await listen(agents);
});

afterAll(async () => {
  releaseSlow();
  for (const server of servers.reverse()) await server.close();
  await persistence?.close();
  await connection?.close();
  await nats?.stop();
});

async function eventually<T>(check: () => Promise<T | null | undefined>): Promise<T> {
  for (;;) {
    const value = await check();
    if (value !== null && value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function publish(envelope: Envelope) {
  return publishEnvelope(connection.jetstream(), workflowEventSubject(envelope.workflowId), envelope, { msgId: envelope.id });
}

/** Starts a parent and its fan-out supervision to `candidates`, and returns the join the parent received once done. */
async function fanOut(parentId: string, supervisionId: string, candidates: RouteCandidate[], input: unknown, joinTimeoutMs: number): Promise<SupervisionCompleted> {
  const meta = { correlationId: parentId, causationId: null, occurredAt: new Date().toISOString(), source: 'test' };
  await publish({ ...meta, id: `${parentId}:started`, type: 'parent.started', workflowId: parentId, payload: {} });
  const request: SupervisionRequested = {
    parent: { workflowId: parentId, effectId: `${parentId}:fan-out`, task: 'task.fan_out' },
    input,
    candidates,
    mode: 'fan_out',
    fanOut: candidates.map((c) => c.route),
    confidenceThreshold: 0,
    joinTimeoutMs,
    router: { agent: 'supervisor', task: 'route.decide' },
    resultEventType: SUPERVISION_COMPLETED,
  };
  await publish({ ...meta, id: `${supervisionId}:requested`, type: SUPERVISION_REQUESTED, workflowId: supervisionId, payload: request });
  const parent = await eventually(async () => {
    const record = await persistence.snapshots.load(parentId);
    return record?.status === 'done' ? record : null;
  });
  return (parent.snapshot as { context: { result: SupervisionCompleted } }).context.result;
}

describe('supervisor fan-out on NATS JetStream', () => {
  it('sends one task to three specialists in parallel and, at the durable join timeout, says which answered', async () => {
    const supervisionId = 'sup-fan-out-1';
    const candidates: RouteCandidate[] = [
      { route: 'summariser', specialist: 'summariser', task: 'email.summarise', description: 's', resultEventType: EMAIL_SUMMARISED },
      { route: 'drafter', specialist: 'drafter', task: 'reply.draft', description: 'd', resultEventType: REPLY_DRAFTED },
      { route: 'classifier', specialist: 'classifier', task: 'email.classify', description: 'c', resultEventType: EMAIL_CLASSIFIED },
    ];
    const email = { messageId: '<1@x>', from: 'ann@example.org', to: 'me@example.org', subject: 'x', date: null, text: 'hello', headers: {}, origin: {} };
    const result = await fanOut('fan-out-parent-1', supervisionId, candidates, { email }, 1_500);
    expect(result.timedOut).toBe(true);
    expect(result.answered.map((a) => [a.specialist, a.type])).toEqual([
      ['summariser', EMAIL_SUMMARISED],
      ['classifier', EMAIL_CLASSIFIED],
    ]);
    expect(result.missing).toEqual([{ route: 'drafter', specialist: 'drafter' }]);
    expect(result.failed).toEqual([]);

    const journal = await persistence.journal.read(supervisionId);
    expect(journal[0].effects.filter((effect) => effect.kind === 'agent.task')).toHaveLength(3);
    expect(journal[0].effects.some((effect) => effect.kind === 'timer.schedule')).toBe(true);
    expect(journal.at(-1)?.eventType).toBe('timer.fired');

    // The slow answer arrives after the join: journaled, not applied.
    releaseSlow();
    const late = await eventually(async () => (await persistence.journal.read(supervisionId)).find((entry) => entry.eventType === REPLY_DRAFTED));
    expect(late.rejection).toMatch(/workflow is done/);
  });

  it("counts the fanned-out specialists' model calls, a ReAct run's included, against the supervised workflow's budget", async () => {
    const parentId = 'fan-out-parent-2';
    const supervisionId = 'sup-fan-out-2';
    const result = await fanOut(
      parentId,
      supervisionId,
      [
        { route: 'note-run', specialist: 'note-run', task: 'note.write', description: 'r', resultEventType: NOTE_WRITTEN },
        { route: 'note-step', specialist: 'note-step', task: 'note.write', description: 's', resultEventType: NOTE_WRITTEN },
      ],
      { email: 'ann' },
      60_000,
    );
    expect(result.answered.map((a) => a.specialist).sort()).toEqual(['note-run', 'note-step']);
    // The run's 120 tokens and the one-step call's 35, both under the parent; nothing under the supervision or the run.
    const spent = await eventually(async () => {
      const spend = await usage.spent(parentId);
      return spend.runIds.length === 2 ? spend : null;
    });
    expect(spent.tokens).toBe(155);
    expect(spent.runIds.sort()).toEqual([`run-${supervisionId}_1_0`, `${supervisionId}:1:1`]);
    expect((await usage.spent(supervisionId)).tokens).toBe(0);
    expect((await usage.spent(`run-${supervisionId}_1_0`)).tokens).toBe(0);
  });
});
