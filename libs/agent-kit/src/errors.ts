import { TroupeError } from '@troupe/contracts';

/** Base of agent-kit errors. */
export class AgentKitError extends TroupeError {}

/**
 * The `TROUPE_MODEL_*` environment is invalid. `problems` names every bad key with what is wrong; the
 * API key's value never appears in it. Not retryable: the configuration has to be fixed.
 */
export class ModelConfigError extends AgentKitError {
  /** One line per bad key: `TROUPE_MODEL_NAME: required when TROUPE_MODEL_PROVIDER is set`. */
  readonly problems: string[];

  constructor(problems: string[]) {
    super('MODEL_CONFIG_INVALID', `invalid model configuration: ${problems.join('; ')}`, { retryable: false });
    this.problems = problems;
  }
}

/**
 * A call to a language model failed (network, rate limit, server error, rejected key). `retryable`
 * follows the provider's verdict: 408, 409, 429 and 5xx answers and exhausted retries are retryable, a
 * rejected key or request is not. `model` is `provider/modelId`.
 */
export class ModelCallError extends AgentKitError {
  readonly model: string;

  constructor(model: string, message: string, options: { retryable: boolean; cause?: unknown }) {
    super('MODEL_CALL_FAILED', `model ${model}: ${message}`, options);
    this.model = model;
  }
}

/**
 * A model's answer still failed its schema after every attempt (each retry showed the model the
 * validation errors). `issues` are the last attempt's problems as `path: message` lines, `answerText`
 * that attempt's raw text (capped at 2,000 characters). Not retryable by redelivery: escalate instead.
 */
export class StructuredOutputError extends AgentKitError {
  readonly model: string;
  readonly attempts: number;
  readonly issues: string[];
  readonly answerText: string;

  constructor(options: { model: string; schemaName: string; attempts: number; issues: string[]; answerText: string }) {
    super(
      'STRUCTURED_OUTPUT_INVALID',
      `model ${options.model} gave no valid ${options.schemaName} after ${options.attempts} attempt(s): ${options.issues.join('; ')}`,
      { retryable: false },
    );
    this.model = options.model;
    this.attempts = options.attempts;
    this.issues = options.issues;
    this.answerText = options.answerText.slice(0, 2_000);
  }
}
