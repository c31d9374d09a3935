import { publishEnvelope, runEffect, type EffectResult, type JetStreamContext } from '@troupe/bus';
import {
  AGENT_RUN_REQUESTED,
  AgentResultRequested,
  AgentTaskRequested,
  BUCKETS,
  EFFECT_FAILED,
  MODEL_RESPONDED,
  ModelCallRequested,
  TOOL_RESPONDED,
  ToolCallRequested,
  ToolResponded,
  agentRunId,
  budgetWorkflowOf,
  effectResultEventId,
  formatIssues,
  parseOrThrow,
  taskBudgetWorkflowId,
  workflowEventTypeSubject,
  type AgentRunRequested,
  type EffectFailed,
  type Envelope,
  type ModelResponded,
  type WorkflowBudget,
} from '@troupe/contracts';
import type { JetStreamClient, KV } from 'nats';
import type { AgentRegistry, AnyAgentDefinition } from './agent-definition';
import { AgentKitError } from './errors';
import { callTool } from './tools';
import type { WorkflowUsageLedger } from './workflow-usage';

/** An agent the registry does not know: the message is dead-lettered (not retryable). */
export class UnknownAgentError extends AgentKitError {
  constructor(agent: string, known: string[]) {
    super('AGENT_UNKNOWN', `agent ${agent} is not hosted here (hosted: ${known.join(', ') || 'none'})`, { retryable: false });
  }
}

function agentOf(agents: AgentRegistry, name: string): AnyAgentDefinition {
  const agent = agents.get(name);
  if (agent === undefined) throw new UnknownAgentError(name, agents.names);
  return agent;
}

/**
 * Results of completed tool calls by effect id (DESIGN.md "Durability protocol" 3: an effect-result
 * record guards calls that cannot take an idempotency key). A tool call whose record exists is
 * answered from it and never runs again.
 */
export interface ToolResultStore {
  get(effectId: string): Promise<ToolResponded | null>;
  put(result: ToolResponded): Promise<void>;
}

/** A {@link ToolResultStore} in memory (tests, single-process tools). */
export class InMemoryToolResultStore implements ToolResultStore {
  readonly results = new Map<string, ToolResponded>();
  async get(effectId: string) {
    return this.results.get(effectId) ?? null;
  }
  async put(result: ToolResponded) {
    this.results.set(result.effectId, result);
  }
}

/** A {@link ToolResultStore} in the JetStream KV bucket `troupe_effect_results` (key = effect id with `:` as `.`). */
export class KvToolResultStore implements ToolResultStore {
  private constructor(private readonly kv: KV) {}

  /** Opens (creating when missing) the bucket. */
  static async open(js: JetStreamClient, options: { replicas?: number } = {}): Promise<KvToolResultStore> {
    return new KvToolResultStore(await js.views.kv(BUCKETS.effectResults, { history: 1, replicas: options.replicas ?? 1 }));
  }

  private key(effectId: string): string {
    return effectId.replace(/:/g, '.').replace(/[^A-Za-z0-9_.=-]/g, '_');
  }

  async get(effectId: string): Promise<ToolResponded | null> {
    const entry = await this.kv.get(this.key(effectId));
    if (entry === null || entry.operation !== 'PUT') return null;
    return parseOrThrow(ToolResponded, entry.json(), `tool result ${effectId}`);
  }

  async put(result: ToolResponded): Promise<void> {
    await this.kv.put(this.key(result.effectId), JSON.stringify(result));
  }
}

/**
 * The `agent.run_requested` envelope that starts a run for a workflow's `agent.task`: run id from the
 * task's effect id ({@link agentRunId}), envelope id `<runId>:requested`, so a redelivered task starts
 * the run once.
 *
 * @throws SchemaValidationError when the task or its input fails the agent's input schema.
 */
export function agentRunRequest(agent: AnyAgentDefinition, envelope: Envelope, workflowBudget: WorkflowBudget, source: string, now: Date): Envelope {
  const task = parseOrThrow(AgentTaskRequested, envelope.payload, `${envelope.type} payload`);
  const input = parseOrThrow(agent.inputSchema, task.input, `${agent.name} task input`);
  const runId = agentRunId(task.effectId);
  const payload: AgentRunRequested = {
    agent: agent.name,
    parent: { workflowId: envelope.workflowId, effectId: task.effectId, task: task.task, ...(task.budgetWorkflowId === undefined ? {} : { budgetWorkflowId: task.budgetWorkflowId }) },
    prompt: agent.prompt(input as never),
    input: task.input,
    budget: agent.budget,
    workflowBudget,
    maxInvalidAnswers: agent.maxInvalidAnswers ?? 2,
  };
  return {
    id: `${runId}:requested`,
    type: AGENT_RUN_REQUESTED,
    workflowId: runId,
    correlationId: envelope.correlationId,
    causationId: envelope.id,
    occurredAt: now.toISOString(),
    source,
    payload,
  };
}

/**
 * Executes a `model.call` effect: the agent's model chain answers the run's transcript.
 *
 * @throws UnknownAgentError; ModelChainExhaustedError when every hop failed (not retryable: the run is
 *   told with `effect.failed`, whose reason lists the attempts).
 */
export async function executeModelCall(agents: AgentRegistry, request: ModelCallRequested): Promise<EffectResult> {
  const agent = agentOf(agents, request.agent);
  const result = await agent.chain.call({ system: agent.system, transcript: request.transcript, tools: agent.tools, answerSchema: agent.answerSchema }, request.input);
  const payload: ModelResponded = { effectId: request.effectId, step: request.step, decision: result.decision, usage: result.usage, attempts: result.attempts };
  return { type: MODEL_RESPONDED, payload };
}

/**
 * Executes a `tool.call` effect through {@link callTool}; a call whose result is recorded already is
 * answered from the record and not run again. An unknown tool is answered as a failed call (the model
 * sees why).
 */
export async function executeToolCall(agents: AgentRegistry, request: ToolCallRequested, results: ToolResultStore, clock: () => number = Date.now): Promise<EffectResult> {
  const recorded = await results.get(request.effectId);
  if (recorded !== null) return { type: TOOL_RESPONDED, payload: recorded };
  const agent = agentOf(agents, request.agent);
  const tool = agent.tools.find((candidate) => candidate.name === request.tool);
  const outcome =
    tool === undefined
      ? { ok: false, output: null, error: `unknown tool ${request.tool} (tools: ${agent.tools.map((t) => t.name).join(', ') || 'none'})`, latencyMs: 0 }
      : await callTool(tool, request.input, { idempotencyKey: request.effectId, runId: request.runId }, clock);
  const payload: ToolResponded = { effectId: request.effectId, callId: request.callId, tool: request.tool, ...outcome };
  await results.put(payload);
  return { type: TOOL_RESPONDED, payload };
}

/**
 * The event an `agent.result` effect sends to the parent workflow, with id `<parent effect id>:result`:
 * the agent's result event (its answer validated with the answer schema, then mapped by `toResult`) when
 * the run is done, else `effect.failed` with the run's code and reason.
 */
export function agentResultEvent(agents: AgentRegistry, request: AgentResultRequested): EffectResult {
  const agent = agentOf(agents, request.agent);
  const fail = (reason: string): EffectResult => {
    const failed: EffectFailed = { effectId: request.parent.effectId, kind: 'agent.task', reason: `agent ${agent.name} run ${request.runId}: ${reason}` };
    return { type: EFFECT_FAILED, payload: failed };
  };
  if (request.outcome.status === 'failed') return fail(`${request.outcome.code}: ${request.outcome.reason}`);
  let answer: unknown = request.outcome.answer;
  if (agent.answerSchema !== null) {
    const parsed = agent.answerSchema.safeParse(answer);
    if (!parsed.success) return fail(`answer.invalid: ${formatIssues(parsed.error).join('; ')}`);
    answer = parsed.data;
  }
  const input = agent.inputSchema.safeParse(request.input);
  if (!input.success) return fail(`input.invalid: ${formatIssues(input.error).join('; ')}`);
  return { type: agent.resultEventType, payload: agent.toResult(answer as never, request.usage, input.data as never) };
}

/** Bus handlers of the three agent-run effects and of agent tasks, for one process's agents. */
export class AgentHost {
  constructor(
    private readonly deps: {
      js: JetStreamClient;
      agents: AgentRegistry;
      toolResults: ToolResultStore;
      source: string;
      /** What each workflow's runs have spent so far. */
      usage: WorkflowUsageLedger;
      /** The per-workflow budget: limits over every run of one workflow. */
      workflowLimits: { maxTokens: number; maxCostUsd: number };
      now?: () => Date;
    },
  ) {}

  /**
   * Starts a run for an `agent.task` (publishes `agent.run_requested` into the run's subject), with what
   * the task's budget workflow ({@link taskBudgetWorkflowId}: the supervised workflow for a fan-out task)
   * has spent so far.
   */
  async startRun(agentName: string, envelope: Envelope): Promise<'started'> {
    const agent = agentOf(this.deps.agents, agentName);
    const task = parseOrThrow(AgentTaskRequested, envelope.payload, `${envelope.type} payload`);
    const spent = await this.deps.usage.spent(taskBudgetWorkflowId(envelope, task));
    const budget: WorkflowBudget = { ...this.deps.workflowLimits, spentTokens: spent.tokens, spentCostUsd: spent.costUsd };
    const request = agentRunRequest(agent, envelope, budget, this.deps.source, (this.deps.now ?? (() => new Date()))());
    await publishEnvelope(this.deps.js, workflowEventTypeSubject(request.workflowId, request.type), request, { msgId: request.id });
    return 'started';
  }

  modelCall(envelope: Envelope, context: JetStreamContext): Promise<'completed' | 'failed'> {
    const request = parseOrThrow(ModelCallRequested, envelope.payload, `${envelope.type} payload`);
    return runEffect(this.deps.js, { envelope, context, effectId: request.effectId, kind: 'model.call', source: this.deps.source }, () =>
      executeModelCall(this.deps.agents, request),
    );
  }

  toolCall(envelope: Envelope, context: JetStreamContext): Promise<'completed' | 'failed'> {
    const request = parseOrThrow(ToolCallRequested, envelope.payload, `${envelope.type} payload`);
    return runEffect(this.deps.js, { envelope, context, effectId: request.effectId, kind: 'tool.call', source: this.deps.source }, () =>
      executeToolCall(this.deps.agents, request, this.deps.toolResults),
    );
  }

  /**
   * Sends the run's outcome into the parent workflow (id `<parent effect id>:result`, deduplicated there)
   * and adds the run's usage to its budget workflow's spend ({@link budgetWorkflowOf}).
   */
  async agentResult(envelope: Envelope): Promise<'completed'> {
    const request = parseOrThrow(AgentResultRequested, envelope.payload, `${envelope.type} payload`);
    const result = agentResultEvent(this.deps.agents, request);
    await this.deps.usage.record(budgetWorkflowOf(request.parent), request.runId, request.usage);
    const id = effectResultEventId(request.parent.effectId);
    await publishEnvelope(
      this.deps.js,
      workflowEventTypeSubject(request.parent.workflowId, result.type),
      {
        id,
        type: result.type,
        workflowId: request.parent.workflowId,
        correlationId: envelope.correlationId,
        causationId: envelope.id,
        occurredAt: (this.deps.now ?? (() => new Date()))().toISOString(),
        source: this.deps.source,
        payload: result.payload,
      },
      { msgId: id },
    );
    return 'completed';
  }
}
