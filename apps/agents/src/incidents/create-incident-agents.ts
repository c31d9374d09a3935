import { Logger } from '@nestjs/common';
import { z } from 'zod';
import { modelConfigFromEnv } from '@troupe/agent-kit';
import { ConfigurationError, INCIDENT_AGENTS, agentConsumer, parseEnvironment, type ConsumerDefinition } from '@troupe/contracts';
import { loadSuthaharanReadings } from '@troupe/sensor-data';
import {
  DatasetCheckedRemediator,
  DatasetHistoryEnricher,
  RecordingEscalator,
  RecordingPager,
  RecordingSafeAction,
  RuleIncidentDiagnoser,
  TemplateIncidentReporter,
  type IncidentAgents,
} from './incident-agents';
import type { ChainFactory } from '../model-chains';
import { ModelIncidentDiagnoser, ruleDiagnosisFallback } from './model-incident-diagnoser';

/** Incident agents' configuration (parsed once at boot). */
export const IncidentAgentsEnvironment = z.object({
  /** Who a critical alert pages (recorded; no pager is called). Default `sensor-network-oncall`. */
  TROUPE_INCIDENT_ONCALL: z.string().min(1).max(256).default('sensor-network-oncall'),
});

/**
 * Builds the incident agents: with `TROUPE_MODEL_*` configured the diagnoser is a model chain (`chains`:
 * the configured models, then the offline rules as the non-LLM fallback), the offline rules otherwise;
 * every other agent is a deterministic offline stand-in reading the sensor data set (see
 * `incident-agents.ts`).
 *
 * @throws ConfigurationError for a bad `TROUPE_INCIDENT_ONCALL`, or when a model is configured and `chains`
 *   is null; ModelConfigError when `TROUPE_MODEL_*` is incomplete.
 */
export function createIncidentAgents(processEnv: NodeJS.ProcessEnv, chains: ChainFactory | null, now: () => Date = () => new Date()): IncidentAgents {
  const env = parseEnvironment(IncidentAgentsEnvironment, processEnv);
  const modelConfig = modelConfigFromEnv(processEnv);
  const readings = loadSuthaharanReadings();
  const rules = new RuleIncidentDiagnoser();
  if (modelConfig !== null && chains === null) throw new ConfigurationError(['TROUPE_MODEL_PROVIDER: a model is configured but the incident agents were given no model chain']);
  const diagnoser = modelConfig === null || chains === null ? rules : new ModelIncidentDiagnoser(chains(ruleDiagnosisFallback(rules)));
  if (diagnoser instanceof ModelIncidentDiagnoser) new Logger('agents').log(`incident diagnoser: a model chain ending in fallback/${rules.name}`);
  return {
    enricher: new DatasetHistoryEnricher(readings),
    diagnoser,
    pager: new RecordingPager(env.TROUPE_INCIDENT_ONCALL, now),
    safeAction: new RecordingSafeAction(now),
    remediator: new DatasetCheckedRemediator(readings),
    escalator: new RecordingEscalator(),
    reporter: new TemplateIncidentReporter(),
  };
}

/** The work-queue consumers of the incident agents, one per agent. */
export function incidentAgentConsumers(): ConsumerDefinition[] {
  return Object.values(INCIDENT_AGENTS).map(({ agent }) => agentConsumer(agent));
}
