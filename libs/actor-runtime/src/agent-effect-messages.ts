import {
  AGENT_RESULT_REQUESTED,
  MODEL_CALL_REQUESTED,
  SUBJECT_ROOT,
  TOOL_CALL_REQUESTED,
  effectResultEventId,
  effectSubject,
  workflowEventTypeSubject,
  type AgentResultEffect,
  type Envelope,
  type ModelCallEffect,
  type ToolCallEffect,
  type WorkflowEventEffect,
} from '@troupe/contracts';
import type { OutboxMessage } from '@troupe/persistence';

/** The agent-run effects (DESIGN.md "Agents"): each becomes one message on its `troupe.effect.<kind>` work queue. */
export type AgentRunEffect = ModelCallEffect | ToolCallEffect | AgentResultEffect;

const MESSAGE_TYPES: Record<AgentRunEffect['kind'], string> = {
  'model.call': MODEL_CALL_REQUESTED,
  'tool.call': TOOL_CALL_REQUESTED,
  'agent.result': AGENT_RESULT_REQUESTED,
};

/**
 * The outbox message of an agent-run effect: subject `troupe.effect.<kind>`, payload = the effect without
 * `kind`, plus `effectId` (the idempotency key, `<runId>:<version>:<n>`) and `runId` (the run's workflow id).
 */
export function agentEffectMessage(effect: AgentRunEffect, id: string, base: Omit<Envelope, 'type' | 'payload'>): OutboxMessage {
  const { kind, ...rest } = effect;
  return {
    id,
    subject: effectSubject(kind),
    envelope: { ...base, type: MESSAGE_TYPES[kind], payload: { ...rest, effectId: id, runId: base.workflowId } },
  };
}

/**
 * The outbox message of a `workflow.event` effect: the event itself on the target workflow's subject,
 * envelope id `<answersEffectId>:result`; the outbox id (`Nats-Msg-Id`) stays `<workflowId>:<version>:<n>`.
 */
export function workflowEventMessage(effect: WorkflowEventEffect, id: string, base: Omit<Envelope, 'type' | 'payload'>): OutboxMessage {
  return {
    id,
    subject: workflowEventTypeSubject(effect.workflowId, effect.type),
    envelope: { ...base, id: effectResultEventId(effect.answersEffectId), workflowId: effect.workflowId, type: effect.type, payload: effect.payload },
  };
}

/** The effect kind of an agent-run or `workflow.event` message, or null for any other (for the journal's effect list). */
export function agentEffectKindOf(message: OutboxMessage): string | null {
  for (const [kind, type] of Object.entries(MESSAGE_TYPES)) if (type === message.envelope.type) return kind;
  if (message.subject.startsWith(`${SUBJECT_ROOT}.wf.`)) return 'workflow.event';
  return null;
}
