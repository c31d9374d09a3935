import { z } from 'zod';
import { AgentResultEffect, ModelCallEffect, ToolCallEffect } from './agents';
import { WorkflowId, type Envelope } from './envelope';
import { WorkflowEventEffect } from './supervision';

/**
 * Effects: what a pure workflow machine asks of the world. A machine emits them as action params;
 * the actor runtime writes them to the outbox with an idempotency key `<workflowId>:<version>:<n>`
 * and publishes each to its subject. Results come back as events.
 */

/**
 * A workflow's own spending limits per instance, over every model call made for it (as its definition
 * declares them; the agents enforce the stricter of these and their `TROUPE_WORKFLOW_MAX_*`): cost in USD,
 * tokens (input + output) and model calls answered by a model.
 */
export const WorkflowBudgetLimits = z.object({
  maxCostUsd: z.number().nonnegative().optional(),
  maxTokens: z.number().int().positive().optional(),
  maxModelCalls: z.number().int().positive().optional(),
});
export type WorkflowBudgetLimits = z.infer<typeof WorkflowBudgetLimits>;

/** Settings of the model call an agent task makes (override the agent's own): sampling temperature, output token cap (tokens). */
export const ModelCallSettings = z.object({
  temperature: z.number().min(0).max(2).optional(),
  maxOutputTokens: z.number().int().positive().optional(),
});
export type ModelCallSettings = z.infer<typeof ModelCallSettings>;

/**
 * What a workflow's definition sets for one agent task: the workflow's `budget` and the `model` settings
 * of the state that asks (a declared workflow's `budgets` and its state's `output.model`). Absent: the
 * agents' environment limits and the agent's own settings apply.
 */
export const AgentTaskLimits = z.object({
  budget: WorkflowBudgetLimits.optional(),
  model: ModelCallSettings.optional(),
});
export type AgentTaskLimits = z.infer<typeof AgentTaskLimits>;

/** Work for an agent: published to `troupe.agent.<agent>.task`. `input` is validated by the agent. */
export const AgentTaskEffect = z.object({
  kind: z.literal('agent.task'),
  agent: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/),
  task: z.string().min(1).max(128),
  input: z.unknown(),
  /** The workflow whose budget the task's model calls count against, when not the emitting one (see {@link AgentTaskRequested}). */
  budgetWorkflowId: WorkflowId.optional(),
  /** The definition's budget and model settings for the task (see {@link AgentTaskRequested}). */
  limits: AgentTaskLimits.optional(),
});
export type AgentTaskEffect = z.infer<typeof AgentTaskEffect>;

/** Roles of operators (DESIGN.md "Operators over HTTP"). */
export const Role = z.enum(['viewer', 'operator', 'approver', 'admin']);
export type Role = z.infer<typeof Role>;

/** A human decision is needed: published to `troupe.approval.requested`. */
export const ApprovalRequestEffect = z.object({
  kind: z.literal('approval.request'),
  /** Identifies the gate instance; an `approval.decided` must name it. */
  gateId: z.string().min(1).max(256),
  /** The gate's name in the machine, e.g. `reply-approval`, `classification-review`. */
  gate: z.string().min(1).max(128),
  /** What is proposed (a draft reply, a classification). */
  proposed: z.unknown(),
  /** Why a human is asked (the agent's reasoning, or the low confidence). */
  reason: z.string().max(4_000),
  /** Roles allowed to decide at this gate. */
  allowedRoles: z.array(Role).min(1),
});
export type ApprovalRequestEffect = z.infer<typeof ApprovalRequestEffect>;

/** Send an email reply: published to `troupe.effect.reply-send`. Recorded, never sent by SMTP. */
export const ReplySendEffect = z.object({
  kind: z.literal('reply.send'),
  to: z.string().max(1_000),
  subject: z.string().max(1_000),
  body: z.string().max(100_000),
  inReplyTo: z.string().max(1_000).nullable(),
});
export type ReplySendEffect = z.infer<typeof ReplySendEffect>;

/** Every effect a machine may emit. */
export const Effect = z.discriminatedUnion('kind', [
  AgentTaskEffect,
  ApprovalRequestEffect,
  ReplySendEffect,
  ModelCallEffect,
  ToolCallEffect,
  AgentResultEffect,
  WorkflowEventEffect,
]);
export type Effect = z.infer<typeof Effect>;

/** The message type of an agent task on the bus. */
export const AGENT_TASK_REQUESTED = 'agent.task_requested';

/**
 * Payload of an agent task message. `effectId` is the idempotency key: the agent publishes its result
 * event with id `<effectId>:result`, so a redelivered task yields the same event id and the workflow
 * applies it once.
 */
export const AgentTaskRequested = z.object({
  effectId: z.string().min(1).max(256),
  agent: z.string().min(1).max(64),
  task: z.string().min(1).max(128),
  input: z.unknown(),
  /**
   * The workflow whose per-workflow budget (KV bucket `troupe_workflow_usage`) the task's model calls
   * count against, when it is not the envelope's: a supervision's router and fan-out tasks name the
   * workflow the supervision works for. Absent: the envelope's `workflowId`.
   */
  budgetWorkflowId: WorkflowId.optional(),
  /**
   * The asking workflow's declared per-instance budget (checked, with the agents' environment limits, the
   * stricter of each, against the spend of the task's budget workflow) and the asking state's model
   * settings (used by the task's model call). Absent for workflows that declare none.
   */
  limits: AgentTaskLimits.optional(),
});
export type AgentTaskRequested = z.infer<typeof AgentTaskRequested>;

/**
 * `effect` with `limits` when it is an agent task and `limits` is set (the effect's own limits replaced);
 * any other effect unchanged. Pure: for machines that attach their definition's limits to their tasks.
 */
export function withAgentTaskLimits(effect: Effect, limits: AgentTaskLimits | undefined): Effect {
  return effect.kind === 'agent.task' && limits !== undefined ? { ...effect, limits } : effect;
}

/** The workflow an agent task's model calls count against: the task's `budgetWorkflowId`, else the envelope's workflow. */
export function taskBudgetWorkflowId(envelope: Pick<Envelope, 'workflowId'>, task: AgentTaskRequested): string {
  return task.budgetWorkflowId ?? envelope.workflowId;
}

/** The message type of a reply-send effect on the bus. */
export const REPLY_SEND_REQUESTED = 'reply.send_requested';

/** Payload of a reply-send message; `effectId` is the idempotency key of the send. */
export const ReplySendRequested = ReplySendEffect.omit({ kind: true }).extend({ effectId: z.string().min(1).max(256) });
export type ReplySendRequested = z.infer<typeof ReplySendRequested>;

/** The message type on `troupe.approval.requested`. */
export const APPROVAL_REQUESTED = 'approval.requested';

/** Payload of `approval.requested`: the gate, what is proposed and why, who may decide. */
export const ApprovalRequested = ApprovalRequestEffect.omit({ kind: true }).extend({
  workflowType: z.string().min(1).max(128),
});
export type ApprovalRequested = z.infer<typeof ApprovalRequested>;

/** The id of the result event an effect produces: deterministic, so redelivery deduplicates. */
export function effectResultEventId(effectId: string): string {
  return `${effectId}:result`;
}

/** `effect.failed`: an effect handler gave up for good; the workflow decides what follows. */
export const EFFECT_FAILED = 'effect.failed';
export const EffectFailed = z.object({
  effectId: z.string().min(1).max(256),
  kind: z.string().min(1).max(64),
  reason: z.string().max(4_000),
});
export type EffectFailed = z.infer<typeof EffectFailed>;
