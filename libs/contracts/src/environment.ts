import { z } from 'zod';
import { TroupeError } from './errors';
import { formatIssues } from './envelope';

/** Configuration is wrong: thrown at boot, naming every bad key. Not retryable. */
export class ConfigurationError extends TroupeError {
  constructor(issues: string[]) {
    super('INVALID_CONFIGURATION', `invalid configuration:\n  ${issues.join('\n  ')}`, { retryable: false });
  }
}

/** Environment keys every Troupe process reads. */
export const BaseEnvironment = z.object({
  /** NATS server URL(s), comma-separated. */
  NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
  NATS_USER: z.string().min(1).optional(),
  NATS_PASSWORD: z.string().min(1).optional(),
  /** A file holding the NATS password (e.g. a mounted secret; trailing newline ignored), instead of `NATS_PASSWORD`. */
  NATS_PASSWORD_FILE: z.string().min(1).optional(),
  /** A NATS credentials file (user JWT and nkey seed, `nsc` format), instead of user and password. */
  NATS_CREDENTIALS_FILE: z.string().min(1).optional(),
  /**
   * Whether the app creates or updates the streams at boot (default true). `false` under least privilege
   * (deploy/nats/troupe-permissions.conf): an administrator provisions them, the apps only bind.
   */
  TROUPE_PROVISION_STREAMS: z.enum(['true', 'false']).default('true').transform((value) => value === 'true'),
  /** Replicas of every stream Troupe provisions: 1 on a single server, 3 on a JetStream cluster (R3). */
  TROUPE_STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  /** When set, snapshots, journal and sent mail live in MongoDB instead of JetStream (embedded default). */
  MONGODB_URI: z.string().min(1).optional(),
  MONGODB_DB: z.string().min(1).default('troupe'),
  /** pino-style level for Nest's logger: error, warn, log, debug. */
  TROUPE_LOG_LEVEL: z.enum(['error', 'warn', 'log', 'debug', 'verbose']).default('log'),
});
export type BaseEnvironment = z.infer<typeof BaseEnvironment>;

/**
 * The per-workflow budget, read by every process that calls models for workflows (agents, supervisor):
 * hard limits over every model call made for one workflow, tokens (input + output) and cost in USD.
 */
export const WorkflowBudgetEnvironment = z.object({
  TROUPE_WORKFLOW_MAX_TOKENS: z.coerce.number().int().positive().default(200_000),
  TROUPE_WORKFLOW_MAX_COST_USD: z.coerce.number().positive().default(2),
});

/**
 * The resilience of the model chains, read by every process that calls models (agents, supervisor):
 * the timeout of one model attempt (ms), attempts per model (the first included; only transient
 * failures are retried) and the consecutive transient failures that open a provider's circuit breaker.
 */
export const ModelResilienceEnvironment = z.object({
  TROUPE_MODEL_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  TROUPE_MODEL_ATTEMPTS: z.coerce.number().int().positive().max(10).default(3),
  TROUPE_MODEL_BREAKER_THRESHOLD: z.coerce.number().int().positive().default(5),
});
export type ModelResilienceEnvironment = z.infer<typeof ModelResilienceEnvironment>;

/**
 * Parses the process environment with `schema` once at boot.
 *
 * @throws ConfigurationError listing every missing or malformed key.
 */
export function parseEnvironment<T>(schema: z.ZodType<T>, env: NodeJS.ProcessEnv = process.env): T {
  const result = schema.safeParse(env);
  if (!result.success) throw new ConfigurationError(formatIssues(result.error));
  return result.data;
}

/** Nest logger levels at or above `level`. */
export function logLevelsFrom(level: BaseEnvironment['TROUPE_LOG_LEVEL']): Array<'error' | 'warn' | 'log' | 'debug' | 'verbose'> {
  const order = ['error', 'warn', 'log', 'debug', 'verbose'] as const;
  return order.slice(0, order.indexOf(level) + 1);
}
