/**
 * @troupe/actor-runtime: hosts pure XState workflow machines durably. Start with {@link ActorRuntime}
 * (`handle(envelope)` is the whole loop) and {@link defineWorkflow} (binds a machine to its events).
 */
export { ActorRuntime, type ActorRuntimeOptions, type HandleOutcome, type ActorRuntimeCounters, type OutboxPublisher } from './actor-runtime';
export { defineWorkflow, type WorkflowDefinition } from './workflow-definition';
export { statePaths } from './state-paths';
export { ActorRuntimeError, UnknownWorkflowError, UnsupportedEventError, InvalidEffectError } from './errors';
