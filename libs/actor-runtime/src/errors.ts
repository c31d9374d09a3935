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
