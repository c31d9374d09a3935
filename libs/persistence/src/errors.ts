import { TroupeError } from '@troupe/contracts';

/** Base of persistence errors: `code` is stable, `retryable` says whether trying again may succeed. */
export class PersistenceError extends TroupeError {}

/**
 * The stored version was not the one read: another owner wrote first. Retryable: reload and retry
 * (DESIGN.md "Durability protocol" 2).
 */
export class VersionConflictError extends PersistenceError {
  /** The workflow whose save lost. */
  readonly workflowId: string;
  /** The version the writer expected to find stored (0: none). */
  readonly expectedVersion: number;
  /** The version stored when the conflict was seen; null when none, or when it could not be read. */
  readonly actualVersion: number | null;

  /**
   * @param actualVersion the version stored when the conflict was seen, null when none (or unknown).
   * @param options.cause the store's own error (e.g. JetStream's "wrong last sequence"), when there is one.
   */
  constructor(workflowId: string, expectedVersion: number, actualVersion: number | null, options: { cause?: unknown } = {}) {
    super(
      'VERSION_CONFLICT',
      `workflow ${workflowId}: expected stored version ${expectedVersion}, found ${actualVersion ?? 'none'}`,
      { retryable: true, cause: options.cause },
    );
    this.workflowId = workflowId;
    this.expectedVersion = expectedVersion;
    this.actualVersion = actualVersion;
  }
}
