import { z } from 'zod';
import { WorkflowId } from './envelope';

/**
 * Agent runs (DESIGN.md "Agents"): one ReAct loop is one `react-loop` actor, hosted by the actor runtime
 * like any workflow. Its model calls and tool calls leave as effects (`model.call`, `tool.call`) executed
 * by agent-kit in the agents app with the effect id as idempotency key; their results come back as the
 * events below and are journaled. When the run ends, an `agent.result` effect carries the outcome back
 * to the workflow that asked for it.
 */

/** Name of an agent: lower-case words joined by dashes, safe as a subject token. */
export const AgentName = z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'must be 1-64 characters of [a-z0-9-], starting with a letter');
export type AgentName = z.infer<typeof AgentName>;

/** The workflow type of an agent run. */
export const REACT_LOOP = 'react-loop';

/** One tool call a model asked for. `callId` is the model's id for the call (unique within the run). */
export const ToolCallRequest = z.object({
  callId: z.string().min(1).max(256),
  tool: z.string().min(1).max(128),
  input: z.unknown(),
  /** The tool is marked `requiresApproval`: a human must allow this call before it runs. */
  requiresApproval: z.boolean().default(false),
});
export type ToolCallRequest = z.infer<typeof ToolCallRequest>;

/** One message of an agent run's transcript, in a provider-neutral form. */
export const TranscriptMessage = z.discriminatedUnion('role', [
  z.object({ role: z.literal('user'), content: z.string().max(200_000) }),
  z.object({
    role: z.literal('assistant'),
    content: z.string().max(200_000),
    toolCalls: z.array(ToolCallRequest.omit({ requiresApproval: true })).default([]),
  }),
  z.object({
    role: z.literal('tool'),
    callId: z.string().min(1).max(256),
    tool: z.string().min(1).max(128),
    /** The tool's validated output, or `{ error }` when the call failed or was refused. */
    output: z.unknown(),
  }),
]);
export type TranscriptMessage = z.infer<typeof TranscriptMessage>;

/** Hard limits of one agent run. Reaching one ends the run with its reason; never an unbounded loop. */
export const RunBudget = z.object({
  /** Model calls in all (each ReAct iteration is one model call). */
  maxIterations: z.number().int().positive().max(1_000),
  /** Input plus output tokens summed over every model call. */
  maxTokens: z.number().int().positive(),
  /** Cost in USD summed over every model call. */
  maxCostUsd: z.number().positive(),
});
export type RunBudget = z.infer<typeof RunBudget>;

/** What the workflow has already spent before this run, and its own limits (per-workflow budget). */
export const WorkflowBudget = z.object({
  maxTokens: z.number().int().positive(),
  maxCostUsd: z.number().positive(),
  spentTokens: z.number().int().nonnegative(),
  spentCostUsd: z.number().nonnegative(),
});
export type WorkflowBudget = z.infer<typeof WorkflowBudget>;

/** Who asked for a run: the workflow and the id of its `agent.task` effect (the answer's idempotency key). */
export const RunParent = z.object({
  workflowId: WorkflowId,
  effectId: z.string().min(1).max(256),
  task: z.string().min(1).max(128),
  /**
   * The workflow whose per-workflow budget (KV bucket `troupe_workflow_usage`) the run's model calls
   * count against, when it is not `workflowId`: a run started by a supervision's fan-out counts against
   * the workflow the supervision works for. Absent: `workflowId`.
   */
  budgetWorkflowId: WorkflowId.optional(),
});
export type RunParent = z.infer<typeof RunParent>;

/** The workflow whose budget a run (or a supervision) with this parent counts against: `budgetWorkflowId`, else the parent itself. */
export function budgetWorkflowOf(parent: RunParent): string {
  return parent.budgetWorkflowId ?? parent.workflowId;
}

/** `agent.run_requested`: starts a `react-loop` actor. */
export const AGENT_RUN_REQUESTED = 'agent.run_requested';
export const AgentRunRequested = z.object({
  agent: AgentName,
  parent: RunParent,
  /** The task as the first user message of the transcript. */
  prompt: z.string().min(1).max(200_000),
  /** The task's input as the asking workflow gave it (validated by the agent); the non-LLM fallback answers from it. */
  input: z.unknown(),
  budget: RunBudget,
  workflowBudget: WorkflowBudget,
  /** Invalid structured answers the loop retries (each time with the validation errors fed back) before asking a human. */
  maxInvalidAnswers: z.number().int().positive().max(20).default(2),
});
export type AgentRunRequested = z.infer<typeof AgentRunRequested>;

/** How one model-call attempt ended. */
export const ModelAttemptOutcome = z.enum([
  'ok',
  'timeout',
  'rate_limited',
  'server_error',
  'malformed_response',
  'connection_failed',
  'circuit_open',
  'rejected',
  /** Not called: the workflow's budget is spent (the non-LLM fallback answers). */
  'budget_exhausted',
  'fallback',
]);
export type ModelAttemptOutcome = z.infer<typeof ModelAttemptOutcome>;

/**
 * One attempt of a model call, as journaled: which hop of the fallback chain (0 = primary), which model,
 * how it ended, the HTTP status and `Retry-After` (ms) when there was one, latency (ms) and the wait
 * (ms) before the next attempt.
 */
export const ModelAttempt = z.object({
  hop: z.number().int().nonnegative(),
  model: z.string().max(256),
  attempt: z.number().int().positive(),
  outcome: ModelAttemptOutcome,
  status: z.number().int().nullable(),
  retryAfterMs: z.number().nonnegative().nullable(),
  latencyMs: z.number().nonnegative(),
  /** Wait before the next attempt on this hop (ms); null when none followed. */
  backoffMs: z.number().nonnegative().nullable(),
  error: z.string().max(2_000).nullable(),
});
export type ModelAttempt = z.infer<typeof ModelAttempt>;

/** Tokens (input, output), latency (ms) and cost (USD) of one model call, all attempts included. */
export const ModelUsage = z.object({
  /** `provider/modelId` that served the answer, or `fallback/<name>` for a non-LLM fallback. */
  model: z.string().max(256),
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  latencyMs: z.number().nonnegative(),
  costUsd: z.number().nonnegative(),
});
export type ModelUsage = z.infer<typeof ModelUsage>;

/** What the model answered: tool calls to make, a final answer (validated against the agent's schema), or an invalid one. */
export const ModelDecision = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('tool_calls'), text: z.string().max(200_000), calls: z.array(ToolCallRequest).min(1).max(32) }),
  z.object({ kind: z.literal('answer'), value: z.unknown(), text: z.string().max(200_000) }),
  z.object({ kind: z.literal('invalid_answer'), text: z.string().max(200_000), issues: z.array(z.string().max(1_000)).min(1) }),
]);
export type ModelDecision = z.infer<typeof ModelDecision>;

/** `model.responded`: the result of a `model.call` effect. `step` echoes the call's step. */
export const MODEL_RESPONDED = 'model.responded';
export const ModelResponded = z.object({
  effectId: z.string().min(1).max(256),
  step: z.number().int().nonnegative(),
  decision: ModelDecision,
  usage: ModelUsage,
  /** Every attempt over the fallback chain, in order; the last one served the answer. */
  attempts: z.array(ModelAttempt).min(1),
});
export type ModelResponded = z.infer<typeof ModelResponded>;

/** `tool.responded`: the result of a `tool.call` effect; `ok: false` carries why (bad input, bad output, tool error). */
export const TOOL_RESPONDED = 'tool.responded';
export const ToolResponded = z.object({
  effectId: z.string().min(1).max(256),
  callId: z.string().min(1).max(256),
  tool: z.string().min(1).max(128),
  ok: z.boolean(),
  output: z.unknown(),
  error: z.string().max(4_000).nullable(),
  latencyMs: z.number().nonnegative(),
});
export type ToolResponded = z.infer<typeof ToolResponded>;

/** How an agent run ended, as its parent is told. */
export const RunOutcome = z.discriminatedUnion('status', [
  z.object({ status: z.literal('done'), answer: z.unknown() }),
  z.object({
    status: z.literal('failed'),
    /** `budget.iterations`, `budget.tokens`, `budget.cost`, `budget.workflow_tokens`, `budget.workflow_cost`, `model.failed`, `human.rejected`, `cancelled`. */
    code: z.string().min(1).max(64),
    reason: z.string().max(4_000),
  }),
]);
export type RunOutcome = z.infer<typeof RunOutcome>;

/** Totals of one run: iterations, tokens, cost (USD) and which model or fallback served each step. */
export const RunUsage = z.object({
  iterations: z.number().int().nonnegative(),
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  costUsd: z.number().nonnegative(),
  servedBy: z.array(z.string().max(256)),
});
export type RunUsage = z.infer<typeof RunUsage>;

/** Ask a model for the next step of a run: published to `troupe.effect.model-call`. */
export const ModelCallEffect = z.object({
  kind: z.literal('model.call'),
  agent: AgentName,
  step: z.number().int().nonnegative(),
  transcript: z.array(TranscriptMessage).min(1),
  /** The run's task input, for the chain's non-LLM fallback. */
  input: z.unknown(),
});
export type ModelCallEffect = z.infer<typeof ModelCallEffect>;

/** Run one tool call of a run: published to `troupe.effect.tool-call`. */
export const ToolCallEffect = z.object({
  kind: z.literal('tool.call'),
  agent: AgentName,
  callId: z.string().min(1).max(256),
  tool: z.string().min(1).max(128),
  input: z.unknown(),
});
export type ToolCallEffect = z.infer<typeof ToolCallEffect>;

/** Tell the parent workflow how a run ended: published to `troupe.effect.agent-result`. */
export const AgentResultEffect = z.object({
  kind: z.literal('agent.result'),
  agent: AgentName,
  parent: RunParent,
  outcome: RunOutcome,
  usage: RunUsage,
  /** The run's task input, for mapping the answer to the parent's result event. */
  input: z.unknown(),
});
export type AgentResultEffect = z.infer<typeof AgentResultEffect>;

/** Message types of the three effects on the bus; payload = the effect without `kind`, plus `effectId` and `runId`. */
export const MODEL_CALL_REQUESTED = 'model.call_requested';
export const TOOL_CALL_REQUESTED = 'tool.call_requested';
export const AGENT_RESULT_REQUESTED = 'agent.result_requested';

export const ModelCallRequested = ModelCallEffect.omit({ kind: true }).extend({ effectId: z.string().min(1).max(256), runId: WorkflowId });
export type ModelCallRequested = z.infer<typeof ModelCallRequested>;
export const ToolCallRequested = ToolCallEffect.omit({ kind: true }).extend({ effectId: z.string().min(1).max(256), runId: WorkflowId });
export type ToolCallRequested = z.infer<typeof ToolCallRequested>;
export const AgentResultRequested = AgentResultEffect.omit({ kind: true }).extend({ effectId: z.string().min(1).max(256), runId: WorkflowId });
export type AgentResultRequested = z.infer<typeof AgentResultRequested>;

/** Effect kinds of agent runs (each has a work queue `troupe.effect.<kind with dashes>`). */
export const AGENT_EFFECT_KINDS = { modelCall: 'model.call', toolCall: 'tool.call', agentResult: 'agent.result' } as const;

/**
 * The id of the run a workflow's `agent.task` effect starts: `run-` plus the effect id with `:` as `_`
 * (deterministic, so a redelivered task starts the same run). Ids too long for a {@link WorkflowId} keep
 * their head and a FNV-1a hash of the whole.
 */
export function agentRunId(parentEffectId: string): string {
  const plain = `run-${parentEffectId.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  if (plain.length <= 128) return plain;
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(parentEffectId)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `${plain.slice(0, 118)}-${hash.toString(16).padStart(8, '0')}`;
}

/**
 * What an agent advertises on the bus (KV bucket `troupe_agents`, key = name) so the supervisor can
 * route to it: its name, what it does, the task it takes and the JSON schema of that task's input.
 */
export const AgentAdvertisement = z.object({
  name: AgentName,
  description: z.string().min(1).max(2_000),
  task: z.string().min(1).max(128),
  inputSchema: z.record(z.string(), z.unknown()),
  /** The event type its result arrives as in the asking workflow. */
  resultEventType: z.string().min(1).max(128),
  advertisedAt: z.iso.datetime({ offset: true }),
});
export type AgentAdvertisement = z.infer<typeof AgentAdvertisement>;
