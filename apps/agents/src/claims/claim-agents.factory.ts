import { createLanguageModel, modelConfigFromEnv } from '@troupe/agent-kit';
import { modelClaimAgents, offlineClaimAgents, type ClaimAgents } from './claim-agents';

/**
 * The claim agents from configuration: with `TROUPE_MODEL_*` set, the model agents; otherwise the
 * offline stand-ins (rules and a template).
 *
 * @throws ModelConfigError when `TROUPE_MODEL_*` is set but incomplete.
 */
export function createClaimAgents(processEnv: NodeJS.ProcessEnv): ClaimAgents {
  const config = modelConfigFromEnv(processEnv);
  return config === null ? offlineClaimAgents() : modelClaimAgents(createLanguageModel(config));
}
