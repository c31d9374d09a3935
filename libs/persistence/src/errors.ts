import { TroupeError } from '@troupe/contracts';

/** Base of persistence errors. */
export class PersistenceError extends TroupeError {}

/**
 * The stored version was not the one read: another owner wrote first. Retryable: reload and retry
 * (DESIGN.md "Durability protocol" 2).
 */
export class VersionConflictError extends PersistenceError {
  constructor(workflowId: string, expectedVersion: number, actualVersion: number | null) {
    super(
      'VERSION_CONFLICT',
      `workflow ${workflowId}: expected stored version ${expectedVersion}, found ${actualVersion ?? 'none'}`,
      { retryable: true },
    );
  }
}
