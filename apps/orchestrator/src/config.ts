import { z } from 'zod';
import { BaseEnvironment } from '@troupe/contracts';

/** Orchestrator configuration, parsed once at boot. */
export const OrchestratorEnvironment = BaseEnvironment.extend({
  /** Classifications below this confidence (0–1) go to human review (default 0.8). */
  TROUPE_CONFIDENCE_THRESHOLD: z.coerce.number().min(0).max(1).default(0.8),
  /** How long a drafted reply or a classification review waits for a human before it escalates to an admin, ms (default 24 h). */
  TROUPE_APPROVAL_TIMEOUT_MS: z.coerce.number().int().positive().default(24 * 60 * 60 * 1_000),
  /** How long an escalated reply waits before it is rejected automatically, ms (default 24 h). */
  TROUPE_ESCALATION_TIMEOUT_MS: z.coerce.number().int().positive().default(24 * 60 * 60 * 1_000),
  /** Claims of more than this many USD go to human review whatever their severity (default 10,000). */
  TROUPE_CLAIM_REVIEW_THRESHOLD_USD: z.coerce.number().nonnegative().default(10_000),
  /** How long a claim waits at the review gate before it escalates to a manager (admin), ms (default 48 h). */
  TROUPE_CLAIM_REVIEW_TIMEOUT_MS: z.coerce.number().int().positive().default(48 * 60 * 60 * 1_000),
  /** How long an escalated claim waits before it is referred to the claims committee, ms (default 48 h). */
  TROUPE_CLAIM_ESCALATION_TIMEOUT_MS: z.coerce.number().int().positive().default(48 * 60 * 60 * 1_000),
  /** Which form of claim processing to host: `typescript` (default, the catalog's machine) or `declared` (claim-processing.workflow.yaml compiled at boot). */
  TROUPE_CLAIM_DEFINITION: z.enum(['typescript', 'declared']).default('typescript'),
  /** With `TROUPE_CLAIM_DEFINITION=declared`: the YAML file (default: the one in the source tree). */
  TROUPE_CLAIM_DEFINITION_FILE: z.string().min(1).optional(),
  /** Passivation: actors idle this long (ms) leave memory until their next event (default 300,000). */
  TROUPE_ACTOR_IDLE_MS: z.coerce.number().int().nonnegative().default(300_000),
  /** Workflow actors kept in memory (default 10,000). */
  TROUPE_ACTOR_CACHE_SIZE: z.coerce.number().int().positive().default(10_000),
  /**
   * Partition lease time to live, ms (default 10,000): a replica that stops renewing (crashed, cut off)
   * loses its partitions to the others within this plus a third of it. Every replica must use the same.
   */
  TROUPE_PARTITION_LEASE_TTL_MS: z.coerce.number().int().min(1_000).default(10_000),
  /** Workflow events handled concurrently (different workflows; default 64). */
  TROUPE_ORCHESTRATOR_CONCURRENCY: z.coerce.number().int().positive().default(64),
});
export type OrchestratorEnvironment = z.infer<typeof OrchestratorEnvironment>;
