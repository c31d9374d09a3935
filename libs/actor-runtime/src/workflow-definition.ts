import type { AnyStateMachine, InputFrom, SnapshotFrom } from 'xstate';
import type { z } from 'zod';
import type { Envelope } from '@troupe/contracts';

/**
 * Everything the runtime needs to host one workflow type. The machine stays pure; this binds it to the
 * bus: which event starts it, the payload schema of every event it accepts (parsed at the edge), how the
 * start payload becomes machine input, and which small facts (tags) the read model indexes.
 */
export interface WorkflowDefinition<TMachine extends AnyStateMachine = AnyStateMachine> {
  workflowType: string;
  machine: TMachine;
  /** Stored with each snapshot; bump when states or context change shape. */
  machineVersion: string;
  /** The event type that creates an instance (e.g. `email.received`). */
  startEventType: string;
  /** Payload schema per accepted event type, the start event included. */
  events: Record<string, z.ZodType>;
  /** Machine input from the validated start payload. */
  input(start: { workflowId: string; payload: unknown; envelope: Envelope }): InputFrom<TMachine>;
  /** Small string facts about a snapshot for queries and the change feed. */
  tags(snapshot: SnapshotFrom<TMachine>): Record<string, string>;
}

/** Declares a workflow definition with its machine's types inferred. */
export function defineWorkflow<TMachine extends AnyStateMachine>(definition: WorkflowDefinition<TMachine>): WorkflowDefinition<TMachine> {
  return definition;
}
