import {
  AGENT_RESULT_REQUESTED,
  MODEL_CALL_REQUESTED,
  TOOL_CALL_REQUESTED,
  effectSubject,
  type AgentResultEffect,
  type Envelope,
  type ModelCallEffect,
  type ToolCallEffect,
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

/** The effect kind of an agent-run message type, or null for any other type (for the journal's effect list). */
export function agentEffectKindOf(messageType: string): string | null {
  for (const [kind, type] of Object.entries(MESSAGE_TYPES)) if (type === messageType) return kind;
  return null;
}
