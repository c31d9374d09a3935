import { z } from 'zod';
import { IncidentSeverity, ProposedFix, type IncidentDiagnosed, type IncidentTaskInput } from '@troupe/contracts';
import { generateStructured, modelLabel, type ChatLanguageModel } from '@troupe/agent-kit';
import type { IncidentDiagnoser } from './incident-agents';

/** The answer a model must give. */
export const ModelDiagnosisAnswer = z.object({
  severity: IncidentSeverity,
  cause: z.string().min(1).max(2_000),
  transient: z.boolean(),
  proposedFix: ProposedFix,
  confidence: z.number().min(0).max(1),
});
export type ModelDiagnosisAnswer = z.infer<typeof ModelDiagnosisAnswer>;

const SYSTEM_PROMPT = [
  'You diagnose anomalies in a wireless sensor network of TelosB motes that read humidity (% RH) and temperature (°C) every 5 seconds.',
  'Given an alert from a robust z-score detector and the mote\'s baseline, say how severe it is, its likely cause, whether it is a transient blip that needs no fix, and the one fix you propose.',
  'A human approves the fix before anything runs. Be concrete and brief; do not invent data you were not given.',
].join(' ');

/**
 * A diagnoser that asks a language model for a zod-validated diagnosis (agent-kit `generateStructured`).
 * Its name is `model/<provider>/<modelId>`; token counts are reported in the result.
 *
 * @throws StructuredOutputError when the model gives no valid answer; ModelCallError when it cannot be reached.
 */
export class ModelIncidentDiagnoser implements IncidentDiagnoser {
  readonly name: string;

  constructor(private readonly model: ChatLanguageModel) {
    this.name = `model/${modelLabel(model)}`.slice(0, 256);
  }

  async diagnose({ alert, enrichment }: IncidentTaskInput): Promise<IncidentDiagnosed> {
    const answer = await generateStructured({
      model: this.model,
      schema: ModelDiagnosisAnswer,
      schemaName: 'incident_diagnosis',
      system: SYSTEM_PROMPT,
      prompt: JSON.stringify({ alert, deviceHistory: enrichment }, null, 2),
      maxOutputTokens: 800,
    });
    return { ...answer.value, diagnoser: this.name, inputTokens: answer.inputTokens, outputTokens: answer.outputTokens };
  }
}
