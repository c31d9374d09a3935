import type { ActorRuntime, HandleOutcome } from '@troupe/actor-runtime';
import type { Envelope } from '@troupe/contracts';
import { VersionConflictError } from '@troupe/persistence';

/**
 * Applies an event as the transport does: a `VersionConflictError` (another writer, a migration for
 * instance, saved behind the runtime's cached record) is retried, as a nak and redelivery would, and
 * the runtime reloads the record. Gives up after 5 retries.
 *
 * @throws the last VersionConflictError, or any other error of `runtime.handle`.
 */
export async function deliverRetryingConflicts(runtime: ActorRuntime, envelope: Envelope): Promise<HandleOutcome> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await runtime.handle(envelope);
    } catch (error) {
      if (!(error instanceof VersionConflictError) || attempt === 5) throw error;
    }
  }
}
