import { z } from 'zod';
import { BaseEnvironment, ModelResilienceEnvironment, WorkflowBudgetEnvironment } from '@troupe/contracts';

/** Supervisor configuration, parsed once at boot (plus the `TROUPE_MODEL_*` keys of agent-kit). */
export const SupervisorEnvironment = BaseEnvironment.extend({
  /** Below this routing confidence (0–1) a human decides the route; 0 (default) never asks. */
  TROUPE_SUPERVISOR_CONFIDENCE_THRESHOLD: z.coerce.number().min(0).max(1).default(0),
  /** How long a fan-out waits for its specialists (ms, a durable timer) before it reports who is missing. */
  TROUPE_SUPERVISOR_JOIN_TIMEOUT_MS: z.coerce.number().int().positive().default(60_000),
  /** The per-workflow budget the router's model calls count against (as the agents'); once spent, the header rules decide. */
  ...WorkflowBudgetEnvironment.shape,
  /** The router chain's per-attempt timeout (ms), attempts per model and breaker threshold (as the agents'). */
  ...ModelResilienceEnvironment.shape,
});
export type SupervisorEnvironment = z.infer<typeof SupervisorEnvironment>;
