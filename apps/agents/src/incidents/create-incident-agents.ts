import { Logger } from '@nestjs/common';
import { z } from 'zod';
import { createLanguageModel, describeModelConfig, modelConfigFromEnv } from '@troupe/agent-kit';
import { INCIDENT_AGENTS, agentConsumer, parseEnvironment, type ConsumerDefinition } from '@troupe/contracts';
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
import { ModelIncidentDiagnoser } from './model-incident-diagnoser';

/** Incident agents' configuration (parsed once at boot). */
export const IncidentAgentsEnvironment = z.object({
  /** Who a critical alert pages (recorded; no pager is called). Default `sensor-network-oncall`. */
  TROUPE_INCIDENT_ONCALL: z.string().min(1).max(256).default('sensor-network-oncall'),
});

/**
 * Builds the incident agents: the diagnoser asks the `TROUPE_MODEL_*` model when one is configured, the
 * offline rules otherwise; every other agent is a deterministic offline stand-in reading the sensor
 * data set (see `incident-agents.ts`).
 *
 * @throws ConfigurationError for a bad `TROUPE_INCIDENT_ONCALL`; ModelConfigError when `TROUPE_MODEL_*` is incomplete.
 */
export function createIncidentAgents(processEnv: NodeJS.ProcessEnv, now: () => Date = () => new Date()): IncidentAgents {
  const env = parseEnvironment(IncidentAgentsEnvironment, processEnv);
  const modelConfig = modelConfigFromEnv(processEnv);
  const readings = loadSuthaharanReadings();
  const diagnoser = modelConfig === null ? new RuleIncidentDiagnoser() : new ModelIncidentDiagnoser(createLanguageModel(modelConfig));
  if (modelConfig !== null) new Logger('agents').log(`incident diagnoser: ${describeModelConfig(modelConfig)}`);
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
