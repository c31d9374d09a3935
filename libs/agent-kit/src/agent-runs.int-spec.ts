import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { connect, type NatsConnection } from 'nats';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { ActorRuntime, defineWorkflow } from '@troupe/actor-runtime';
import { JetStreamServer, provisionStreams, publishEnvelope, type JetStreamContext } from '@troupe/bus';
import {
  AGENT_EFFECT_KINDS,
  APPROVAL_DECIDED,
  ApprovalDecided,
  EffectFailed,
  ORCHESTRATOR_CONSUMER,
  agentConsumer,
  agentRunId,
  agentTaskSubject,
  effectConsumer,
  effectSubject,
  workflowEventSubject,
  type Effect,
  type Envelope,
  type JournalEntry,
  type ModelResponded,
} from '@troupe/contracts';
import { createPersistence, type Persistence } from '@troupe/persistence';
import { startNatsServer, type NatsServerHandle } from '@troupe/testing';
import { AgentRegistry, defineAgent } from './agent-definition';
import { AgentHost, KvToolResultStore } from './agent-host';
import { KvWorkflowUsage } from './workflow-usage';
import { ModelChain, ProviderBreakers, type NonLlmFallback } from './model-chain';
import { reactLoopWorkflow } from './react-loop.workflow';
import { refusedBaseUrl, startFakeOpenAiServer, type FakeOpenAiServer, type FakeReply } from './testing/fake-openai-server';
import { defineTool } from './tools';

// Agent runs on real NATS JetStream: the parent workflow and the react-loop actors in one ActorRuntime
// (as the orchestrator hosts them), the effects executed by AgentHost (as the agents app does), the
// model behind a local OpenAI-compatible HTTP server.

const HELPER = 'helper';
const Answer = z.object({ answer: z.string().min(1) });

/** A parent workflow: asks the helper agent, ends `answered` or `failed`. */
const parentMachine = setup({
  types: {
    context: {} as { question: string; answer: unknown; failure: string | null },
    input: {} as { question: string },
    events: {} as { type: 'help.answered'; payload: unknown } | { type: 'effect.failed'; payload: EffectFailed },
  },
  actions: { requestEffect: (_, _effect: Effect) => undefined },
}).createMachine({
  id: 'parent',
  initial: 'asking',
  context: ({ input }) => ({ question: input.question, answer: null, failure: null }),
  states: {
    asking: {
      entry: { type: 'requestEffect', params: ({ context }) => ({ kind: 'agent.task', agent: HELPER, task: 'help', input: { question: context.question } }) },
      on: {
        'help.answered': { target: 'answered', actions: assign({ answer: ({ event }) => event.payload }) },
        'effect.failed': { target: 'failed', actions: assign({ failure: ({ event }) => event.payload.reason }) },
      },
    },
    answered: { type: 'final' },
    failed: { type: 'final' },
  },
});
const parentWorkflow = defineWorkflow({
  workflowType: 'parent-test',
  machine: parentMachine,
  machineVersion: '1',
  startEventType: 'parent.started',
  events: { 'parent.started': z.object({ question: z.string() }), 'help.answered': z.unknown(), 'effect.failed': EffectFailed },
  input: ({ payload }) => payload as { question: string },
  tags: () => ({}),
});

let nats: NatsServerHandle;
let runtimeConnection: NatsConnection;
let persistence: Persistence;
let runtimeServer: JetStreamServer;
const cleanups: Array<() => Promise<unknown>> = [];

async function listen(server: JetStreamServer): Promise<void> {
  await new Promise<void>((resolve, reject) => server.listen((error?: unknown) => (error ? reject(error as Error) : resolve())));
}

beforeAll(async () => {
  nats = await startNatsServer();
  runtimeConnection = await connect({ servers: nats.url });
  await provisionStreams(await runtimeConnection.jetstreamManager());
  persistence = await createPersistence({ nats: runtimeConnection });
  const js = runtimeConnection.jetstream();
  const runtime = new ActorRuntime({
    definitions: [parentWorkflow, reactLoopWorkflow()],
    store: persistence.snapshots,
    journal: persistence.journal,
    publish: async (message) => {
      await publishEnvelope(js, message.subject, message.envelope, { msgId: message.id });
    },
  });
  runtimeServer = new JetStreamServer({ connection: runtimeConnection, consumers: [ORCHESTRATOR_CONSUMER] });
  runtimeServer.addHandler(ORCHESTRATOR_CONSUMER.filterSubject, (envelope: Envelope) => runtime.handle(envelope), true);
  await listen(runtimeServer);
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

afterAll(async () => {
  await runtimeServer?.close();
  await persistence?.close();
  await runtimeConnection?.close();
  await nats?.stop();
});

interface ToolCalls {
  executions: Record<string, number>;
  /** Inputs whose execution never finishes (a process about to be killed). */
  hang: Set<string>;
}

/** An agents "process": its own NATS connection and the AgentHost consumers of the helper agent. */
async function startAgentsProcess(
  fake: FakeOpenAiServer,
  tools: ToolCalls,
  budget = { maxIterations: 5, maxTokens: 100_000, maxCostUsd: 1 },
  workflowLimits = { maxTokens: 1_000_000, maxCostUsd: 100 },
  chainOverrides: { baseUrls?: string[]; fallback?: NonLlmFallback } = {},
) {
  const connection = await connect({ servers: nats.url });
  const lookup = defineTool({
    name: 'lookup',
    description: 'Looks a word up.',
    inputSchema: z.object({ word: z.string() }),
    outputSchema: z.object({ meaning: z.string() }),
    execute: async ({ word }) => {
      tools.executions[word] = (tools.executions[word] ?? 0) + 1;
      if (tools.hang.has(word)) await new Promise(() => undefined);
      return { meaning: `${word} means ${word.length} letters` };
    },
  });
  const publishNote = defineTool({
    name: 'publish_note',
    description: 'Publishes a note for everyone to read.',
    inputSchema: z.object({ note: z.string() }),
    outputSchema: z.object({ published: z.boolean() }),
    requiresApproval: true,
    execute: async ({ note }) => {
      tools.executions[`note:${note}`] = (tools.executions[`note:${note}`] ?? 0) + 1;
      return { published: true };
    },
  });
  const helper = defineAgent({
    name: HELPER,
    description: 'Answers questions with a dictionary.',
    task: 'help',
    resultEventType: 'help.answered',
    inputSchema: z.object({ question: z.string() }),
    answerSchema: Answer,
    system: 'Answer the question.',
    tools: [lookup, publishNote],
    prompt: ({ question }) => question,
    toResult: (answer, usage) => ({ ...answer, servedBy: usage.servedBy, costUsd: usage.costUsd }),
    chain: new ModelChain({
      models: (chainOverrides.baseUrls ?? [fake.baseUrl]).map((baseURL, n) => createOpenAICompatible({ name: n === 0 ? 'fake' : `fake${n}`, baseURL }).chatModel('fake-model')),
      fallback: chainOverrides.fallback ?? null,
      breakers: new ProviderBreakers(),
      prices: { 'fake-model': { inputUsdPerMillionTokens: 100, outputUsdPerMillionTokens: 100 } },
      resilience: { timeoutMs: 5_000, attemptsPerModel: 3, initialDelayMs: 10, maxDelayMs: 50 },
    }),
    budget,
  });
  const js = connection.jetstream();
  const usage = await KvWorkflowUsage.open(js);
  const host = new AgentHost({
    js,
    agents: new AgentRegistry([helper as never]),
    toolResults: await KvToolResultStore.open(js),
    source: 'agents/test',
    usage,
    workflowLimits,
  });
  const server = new JetStreamServer({
    connection,
    consumers: [agentConsumer(HELPER), effectConsumer(AGENT_EFFECT_KINDS.modelCall), effectConsumer(AGENT_EFFECT_KINDS.toolCall), effectConsumer(AGENT_EFFECT_KINDS.agentResult)],
  });
  server.addHandler(agentTaskSubject(HELPER), (envelope: Envelope) => host.startRun(HELPER, envelope), true);
  server.addHandler(effectSubject(AGENT_EFFECT_KINDS.modelCall), (envelope: Envelope, context: JetStreamContext) => host.modelCall(envelope, context), true);
  server.addHandler(effectSubject(AGENT_EFFECT_KINDS.toolCall), (envelope: Envelope, context: JetStreamContext) => host.toolCall(envelope, context), true);
  server.addHandler(effectSubject(AGENT_EFFECT_KINDS.agentResult), (envelope: Envelope) => host.agentResult(envelope), true);
  await listen(server);
  let killed = false;
  const kill = async () => {
    if (killed) return;
    killed = true;
    // SIGKILL-like: the connection goes away with handlers in flight and messages unacked.
    await connection.close();
  };
  cleanups.push(async () => {
    if (!killed) await server.close();
    await kill();
  });
  return { kill };
}

async function fakeProvider(replies: FakeReply[]): Promise<FakeOpenAiServer> {
  const server = await startFakeOpenAiServer(replies);
  cleanups.push(() => server.close());
  return server;
}

let sequence = 0;
async function startParent(question: string): Promise<{ parentId: string; runId: string }> {
  const parentId = `parent-${Date.now().toString(36)}-${++sequence}`;
  await publishEnvelope(
    runtimeConnection.jetstream(),
    workflowEventSubject(parentId),
    { id: `${parentId}:started`, type: 'parent.started', workflowId: parentId, correlationId: parentId, causationId: null, occurredAt: new Date().toISOString(), source: 'test', payload: { question } },
    { msgId: `${parentId}:started` },
  );
  // The parent's first (and only) effect is its agent task: version 1, effect 0.
  return { parentId, runId: agentRunId(`${parentId}:1:0`) };
}

/** Polls until `check` returns a value (the test's own timeout bounds the wait). */
async function eventually<T>(check: () => Promise<T | null | undefined>): Promise<T> {
  for (;;) {
    const value = await check();
    if (value !== null && value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function finished(workflowId: string) {
  return eventually(async () => {
    const record = await persistence.snapshots.load(workflowId);
    return record !== null && record.status === 'done' ? record : null;
  });
}

async function journalOf(workflowId: string): Promise<JournalEntry[]> {
  return persistence.journal.read(workflowId);
}

const toolCalls = (...words: string[]): FakeReply => ({ toolCalls: words.map((word) => ({ id: `call-${word}`, name: 'lookup', arguments: { word } })) });

describe('agent runs on NATS JetStream', () => {
  it('runs a ReAct loop with parallel tool calls and journals every model attempt and tool result', async () => {
    const fake = await fakeProvider([{ status: 500 }, toolCalls('cat', 'horse'), { content: '{"answer":"cat has 3 letters, horse 5"}' }]);
    const tools: ToolCalls = { executions: {}, hang: new Set() };
    await startAgentsProcess(fake, tools);
    const { parentId, runId } = await startParent('How long are cat and horse?');

    const parent = await finished(parentId);
    expect(parent.stateValue).toBe('answered');
    expect((parent.snapshot as { context: { answer: unknown } }).context.answer).toEqual({
      answer: 'cat has 3 letters, horse 5',
      servedBy: ['fake.chat/fake-model', 'fake.chat/fake-model'],
      costUsd: 0.012,
    });
    const run = await finished(runId);
    expect(run.stateValue).toBe('done');
    expect(run.tags).toMatchObject({ agent: HELPER, parentWorkflowId: parentId, iterations: '2', tokens: '120' });

    const journal = await eventually(async () => {
      const entries = await journalOf(runId);
      return entries.length >= 5 ? entries : null;
    });
    expect(journal.map((entry) => entry.eventType)).toEqual(['agent.run_requested', 'model.responded', 'tool.responded', 'tool.responded', 'model.responded']);
    expect(journal.map((entry) => entry.stateValue)).toEqual(['thinking', 'acting', 'acting', 'thinking', 'done']);
    const firstCall = (journal[1].event as Envelope).payload as ModelResponded;
    expect(firstCall.attempts.map((a) => [a.attempt, a.outcome, a.status])).toEqual([
      [1, 'server_error', 500],
      [2, 'ok', null],
    ]);
    // Both tool calls of the step left in one transition, and ran once each.
    expect(journal[1].effects.map((effect) => effect.kind)).toEqual(['tool.call', 'tool.call']);
    expect(tools.executions).toEqual({ cat: 1, horse: 1 });
    expect(fake.requests).toHaveLength(3);
  });

  it('resumes after the agents process dies mid-loop without repeating the completed tool call or model call', async () => {
    const fake = await fakeProvider([toolCalls('dog', 'zebra'), { content: '{"answer":"dog 3, zebra 5"}' }]);
    const first: ToolCalls = { executions: {}, hang: new Set(['zebra']) };
    const process1 = await startAgentsProcess(fake, first);
    const { parentId, runId } = await startParent('How long are dog and zebra?');

    // The step's first tool call completed (its result is journaled); the second is running.
    await eventually(async () => ((await journalOf(runId)).some((entry) => entry.eventType === 'tool.responded') && first.executions.zebra === 1 ? true : null));
    await process1.kill();

    const second: ToolCalls = { executions: {}, hang: new Set() };
    await startAgentsProcess(fake, second);
    const parent = await finished(parentId);
    expect(parent.stateValue).toBe('answered');
    // The restarted process ran only the call that had not completed, after its redelivery.
    expect(first.executions).toEqual({ dog: 1, zebra: 1 });
    expect(second.executions).toEqual({ zebra: 1 });
    expect(fake.requests).toHaveLength(2);
    const journal = await journalOf(runId);
    expect(journal.filter((entry) => entry.rejection === null).map((entry) => entry.eventType)).toEqual([
      'agent.run_requested',
      'model.responded',
      'tool.responded',
      'tool.responded',
      'model.responded',
    ]);
  });

  it('stops a model that keeps asking for tools at the iteration limit and tells the parent why', async () => {
    const fake = await fakeProvider([toolCalls('again')]);
    await startAgentsProcess(fake, { executions: {}, hang: new Set() }, { maxIterations: 3, maxTokens: 100_000, maxCostUsd: 1 });
    const { parentId, runId } = await startParent('Loop forever');
    const parent = await finished(parentId);
    expect(parent.stateValue).toBe('failed');
    expect((parent.snapshot as { context: { failure: string } }).context.failure).toBe(
      `agent helper run ${runId}: budget.iterations: iteration limit reached: 3 of 3 model calls made and the model still wants to continue`,
    );
    expect(fake.requests).toHaveLength(3);
  });

  it('stops at the cost limit with its reason', async () => {
    // 60 tokens at 100 USD per million = 0.006 USD per call.
    const fake = await fakeProvider([toolCalls('again')]);
    await startAgentsProcess(fake, { executions: {}, hang: new Set() }, { maxIterations: 50, maxTokens: 100_000, maxCostUsd: 0.01 });
    const { parentId } = await startParent('Spend it all');
    const parent = await finished(parentId);
    expect((parent.snapshot as { context: { failure: string } }).context.failure).toMatch(/budget\.cost: cost budget reached: 0\.012000 of 0\.010000 USD/);
    expect(fake.requests).toHaveLength(2);
  });

  it('escalates to a human after invalid answers and finishes with the answer the human edits in', async () => {
    const fake = await fakeProvider([{ content: '{"answer": ' }]);
    await startAgentsProcess(fake, { executions: {}, hang: new Set() });
    const { parentId, runId } = await startParent('Say something');
    const waiting = await eventually(async () => {
      const record = await persistence.snapshots.load(runId);
      return record?.pendingApproval?.gate === 'answer-review' ? record : null;
    });
    expect(waiting.stateValue).toEqual({ awaitingHuman: 'answerReview' });
    expect(fake.requests).toHaveLength(3);
    const decision: ApprovalDecided = {
      gateId: waiting.pendingApproval?.gateId ?? '',
      decision: 'edited',
      approver: { id: 'alice', roles: ['approver'] },
      comment: null,
      editedText: '{"answer":"written by a human"}',
    };
    await publishEnvelope(
      runtimeConnection.jetstream(),
      workflowEventSubject(runId),
      { id: `${runId}:decision`, type: APPROVAL_DECIDED, workflowId: runId, correlationId: parentId, causationId: null, occurredAt: new Date().toISOString(), source: 'test', payload: decision },
      { msgId: `${runId}:decision` },
    );
    const parent = await finished(parentId);
    expect((parent.snapshot as { context: { answer: { answer: string } } }).context.answer.answer).toBe('written by a human');
  });

  it('starts a later run of the same workflow with what the earlier runs spent (per-workflow budget)', async () => {
    const fake = await fakeProvider([{ content: '{"answer":"first"}' }, toolCalls('more')]);
    await startAgentsProcess(fake, { executions: {}, hang: new Set() }, undefined, { maxTokens: 100, maxCostUsd: 100 });
    const { parentId, runId } = await startParent('First question');
    await finished(parentId);
    expect((await finished(runId)).tags.tokens).toBe('60');
    // A second task of the same workflow (as a later step would ask).
    const effectId = `${parentId}:9:0`;
    await publishEnvelope(
      runtimeConnection.jetstream(),
      agentTaskSubject(HELPER),
      {
        id: effectId,
        type: 'agent.task_requested',
        workflowId: parentId,
        correlationId: parentId,
        causationId: null,
        occurredAt: new Date().toISOString(),
        source: 'test',
        payload: { effectId, agent: HELPER, task: 'help', input: { question: 'Second question' } },
      },
      { msgId: effectId },
    );
    const second = await finished(agentRunId(effectId));
    const context = (second.snapshot as { context: { workflowBudget: { spentTokens: number }; failure: { code: string; reason: string } } }).context;
    expect(context.workflowBudget.spentTokens).toBe(60);
    expect(context.failure).toEqual({ code: 'budget.workflow_tokens', reason: 'workflow token budget reached: 120 of 100 tokens (60 before this run)' });
  });

  it('suspends a run before a tool that requires approval and runs it once a human approves', async () => {
    const fake = await fakeProvider([{ toolCalls: [{ id: 'n1', name: 'publish_note', arguments: { note: 'hello' } }] }, { content: '{"answer":"published"}' }]);
    const tools: ToolCalls = { executions: {}, hang: new Set() };
    await startAgentsProcess(fake, tools);
    const { parentId, runId } = await startParent('Publish hello');
    const waiting = await eventually(async () => {
      const record = await persistence.snapshots.load(runId);
      return record?.pendingApproval?.gate === 'tool-approval' ? record : null;
    });
    expect(waiting.stateValue).toEqual({ awaitingHuman: 'toolApproval' });
    expect(tools.executions).toEqual({});
    const decision: ApprovalDecided = { gateId: waiting.pendingApproval?.gateId ?? '', decision: 'approved', approver: { id: 'alice', roles: ['approver'] }, comment: null, editedText: null };
    await publishEnvelope(
      runtimeConnection.jetstream(),
      workflowEventSubject(runId),
      { id: `${runId}:approve`, type: APPROVAL_DECIDED, workflowId: runId, correlationId: parentId, causationId: null, occurredAt: new Date().toISOString(), source: 'test', payload: decision },
      { msgId: `${runId}:approve` },
    );
    const parent = await finished(parentId);
    expect(parent.stateValue).toBe('answered');
    expect(tools.executions).toEqual({ 'note:hello': 1 });
  });

  it('answers with the non-LLM fallback when both providers are down for good, journaling every attempt', async () => {
    const fake = await fakeProvider([{ content: '{"answer":"unused"}' }]);
    await startAgentsProcess(fake, { executions: {}, hang: new Set() }, undefined, undefined, {
      baseUrls: [await refusedBaseUrl(), await refusedBaseUrl()],
      fallback: { name: 'canned', answer: async () => ({ answer: 'the canned answer' }) },
    });
    const { parentId, runId } = await startParent('Anyone there?');
    const parent = await finished(parentId);
    expect((parent.snapshot as { context: { answer: { answer: string; servedBy: string[] } } }).context.answer).toMatchObject({ answer: 'the canned answer', servedBy: ['fallback/canned'] });
    const journal = await journalOf(runId);
    const responded = (journal.find((entry) => entry.eventType === 'model.responded')?.event as Envelope).payload as ModelResponded;
    expect(responded.attempts.map((a) => [a.hop, a.outcome])).toEqual([
      [0, 'connection_failed'],
      [0, 'connection_failed'],
      [0, 'connection_failed'],
      [1, 'connection_failed'],
      [1, 'connection_failed'],
      [1, 'connection_failed'],
      [2, 'fallback'],
    ]);
    expect(fake.requests).toHaveLength(0);
  });
});
