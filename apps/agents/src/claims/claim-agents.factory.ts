import { modelConfigFromEnv } from '@troupe/agent-kit';
import type { ChainFactory } from '../model-chains';
import { modelClaimAgents, offlineClaimAgents, type ClaimAgents } from './claim-agents';

/**
 * The claim agents from configuration: with `TROUPE_MODEL_*` set, the model agents over `chains` (the
 * configured models, then each agent's offline stand-in); otherwise the offline stand-ins (rules and a
 * template).
 *
 * @throws ModelConfigError when `TROUPE_MODEL_*` is set but incomplete.
 */
export function createClaimAgents(processEnv: NodeJS.ProcessEnv, chains: ChainFactory): ClaimAgents {
  return modelConfigFromEnv(processEnv) === null ? offlineClaimAgents() : modelClaimAgents(chains);
}
