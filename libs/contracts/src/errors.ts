/**
 * Base of every error Troupe raises on purpose. `code` is stable and safe to match on; `retryable`
 * tells the bus whether a failed message is worth another delivery (nak with delay) or must go to
 * the dead-letter subject at once (term), as Temporal's `ApplicationFailure.nonRetryable` does.
 */
export class TroupeError extends Error {
  /** Stable, machine-readable error code, e.g. `VERSION_CONFLICT`. */
  readonly code: string;
  /** Whether redelivering the same message could succeed. */
  readonly retryable: boolean;

  constructor(code: string, message: string, options: { retryable: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable;
  }
}

/** A message failed its schema: redelivery cannot fix it, so it is dead-lettered with the issue paths. */
export class SchemaValidationError extends TroupeError {
  /** One line per zod issue: `path: message`. */
  readonly issues: string[];

  constructor(what: string, issues: string[]) {
    super('SCHEMA_VALIDATION_FAILED', `${what} failed validation: ${issues.join('; ')}`, { retryable: false });
    this.issues = issues;
  }
}

/** True when `error` is known not to be retryable (a {@link TroupeError} with `retryable: false`). */
export function isNonRetryable(error: unknown): boolean {
  return error instanceof TroupeError ? !error.retryable : false;
}
