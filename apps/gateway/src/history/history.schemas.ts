import { z } from 'zod';
import { WorkflowId } from '@troupe/contracts';

/** Query string of `GET /workflows/:id/replay`: `step` 1..n (default: the last journaled step). */
export const ReplayQuery = z.object({ step: z.coerce.number().int().positive().optional() });
export type ReplayQuery = z.infer<typeof ReplayQuery>;

/**
 * Body of `POST /workflows/:id/fork`: the step of the source to start from, the event the fork receives
 * next instead of the source's, and optionally the fork's id (default `<id>-fork-<8 hex>`).
 */
export const ForkBody = z.object({
  step: z.number().int().positive(),
  event: z.object({ type: z.string().min(1).max(128), payload: z.unknown().default({}) }),
  workflowId: WorkflowId.optional(),
});
export type ForkBody = z.infer<typeof ForkBody>;
