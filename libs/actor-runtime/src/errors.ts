import { TroupeError } from '@troupe/contracts';

/** Base of actor-runtime errors. */
export class ActorRuntimeError extends TroupeError {}

/** An event names a workflow that does not exist and is not a start event of any workflow type. Not retryable. */
export class UnknownWorkflowError extends ActorRuntimeError {
  constructor(workflowId: string, eventType: string) {
    super('UNKNOWN_WORKFLOW', `workflow ${workflowId} does not exist and ${eventType} starts no workflow type`, {
      retryable: false,
    });
  }
}

/** An event type the workflow's definition does not accept at all. Not retryable. */
export class UnsupportedEventError extends ActorRuntimeError {
  constructor(workflowType: string, eventType: string) {
    super('UNSUPPORTED_EVENT', `workflow type ${workflowType} accepts no ${eventType} events`, { retryable: false });
  }
}

/** A machine emitted an effect that fails the `Effect` schema: a bug in the machine. Not retryable. */
export class InvalidEffectError extends ActorRuntimeError {
  constructor(workflowType: string, detail: string) {
    super('INVALID_EFFECT', `workflow type ${workflowType} emitted an invalid effect: ${detail}`, { retryable: false });
  }
}

/** Two workflow definitions were registered under the same `<workflowType>@<machineVersion>`. Not retryable. */
export class DuplicateDefinitionError extends ActorRuntimeError {
  constructor(key: string) {
    super('DUPLICATE_DEFINITION', `workflow definition ${key} is registered twice`, { retryable: false });
  }
}

/**
 * A workflow's snapshot runs on a machine version this host has no definition of. Retryable: during a
 * rolling deploy another replica may know it; after the deliveries run out the event is dead-lettered.
 */
export class UnknownMachineVersionError extends ActorRuntimeError {
  constructor(workflowId: string, workflowType: string, machineVersion: string) {
    super('UNKNOWN_MACHINE_VERSION', `workflow ${workflowId} runs on ${workflowType}@${machineVersion}, which this host does not know`, {
      retryable: true,
    });
  }
}

/**
 * A journal cannot be replayed as asked: `code` says why (`EMPTY_JOURNAL`, `JOURNAL_GAP`,
 * `STEP_OUT_OF_RANGE`, `NO_START_INPUT`, `UNKNOWN_DEFINITION`, `BAD_EVENT_ENTRY`, `BAD_TIMER_ENTRY`,
 * `BAD_MIGRATION_ENTRY`, `REPLAY_MISMATCH`). Not retryable.
 */
export class ReplayError extends ActorRuntimeError {
  constructor(code: string, message: string) {
    super(code, message, { retryable: false });
  }
}
