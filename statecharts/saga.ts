import type { Effect } from '@troupe/contracts';

/**
 * Saga-style compensation, kept pure. A machine that performs an irreversible effect records the effect
 * that undoes it on a stack in its context (`recordCompensation`); when a later step fails or the
 * workflow is cancelled, it emits the recorded compensations newest first (`compensationsToRun`), each
 * as an ordinary effect through `enqueueActions`:
 *
 * ```ts
 * entry: enqueueActions(({ context, enqueue }) => {
 *   for (const effect of compensationsToRun(context.compensations)) enqueue({ type: 'requestEffect', params: effect });
 * }),
 * ```
 *
 * The pattern is Garcia-Molina and Salem's "Sagas" (SIGMOD 1987): every step T_i with a compensating
 * step C_i; a failure after T_1..T_k runs C_k..C_1.
 */
export function recordCompensation(stack: readonly Effect[], compensation: Effect): Effect[] {
  return [...stack, compensation];
}

/** The compensations to emit, newest first. */
export function compensationsToRun(stack: readonly Effect[]): Effect[] {
  return [...stack].reverse();
}
