/**
 * @troupe/actor-runtime: hosts pure XState workflow machines durably. Start with {@link ActorRuntime}
 * (`handle(envelope)` is the whole loop) and {@link defineWorkflow} (binds a machine to its events).
 * Definitions are versioned (`<workflowType>@<machineVersion>`, {@link DefinitionRegistry}); history
 * is pure over journal entries: {@link replayJournal} rebuilds any step and checks it against the
 * journaled digest, {@link planFork} starts a new workflow from a step, and {@link migrateWorkflows}
 * moves running instances to a new version by a declared {@link WorkflowMigration}.
 */
export { ActorRuntime, type ActorRuntimeOptions, type HandleOutcome, type ActorRuntimeCounters, type OutboxPublisher } from './actor-runtime';
export { defineWorkflow, type WorkflowDefinition } from './workflow-definition';
export { statePaths } from './state-paths';
export {
  ActorRuntimeError,
  UnknownWorkflowError,
  UnsupportedEventError,
  InvalidEffectError,
  DuplicateDefinitionError,
  UnknownMachineVersionError,
  ReplayError,
} from './errors';
export { DefinitionRegistry, definitionKey, compareMachineVersions } from './definition-registry';
export { replayJournal, type ReplayDefinition, type ReplayResult, type ReplayMismatch } from './replay';
export { planFork, writeFork, type ForkRequest, type ForkPlan } from './fork';
export {
  migrateWorkflows,
  migrationKey,
  MigrationTargetMissingError,
  type WorkflowMigration,
  type MigrateWorkflowsOptions,
  type MigrationReport,
} from './migration';
export { snapshotDigest, canonicalJson } from './snapshot-digest';
