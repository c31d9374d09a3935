import { z } from 'zod';
import { IncidentSeverity, IncidentTaskInput, ProposedFix, type IncidentDiagnosed } from '@troupe/contracts';
import { answerOneStep, type ModelCallOptions, type ModelChain, type NonLlmFallback } from '@troupe/agent-kit';
import type { IncidentDiagnoser, MeteredDiagnosis } from './incident-agents';

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
 * A diagnoser over a {@link ModelChain}: the configured model(s) behind cockatiel's timeout, retry and
 * circuit breaker, then the offline rules ({@link ruleDiagnosisFallback}) as the non-LLM hop, asked for
 * a zod-validated diagnosis ({@link answerOneStep}: an invalid answer is not asked again, the rules
 * decide). `diagnoser` names who served (`chain/<provider>/<model>`, `chain/fallback/offline/rules`,
 * with why when it was not the models giving up); the tokens are in the result, and `modelUsage`
 * (tokens, cost) is for the workflow's budget.
 *
 * @throws ModelChainExhaustedError only when the rules themselves threw.
 */
export class ModelIncidentDiagnoser implements IncidentDiagnoser {
  readonly name = 'chain';

  constructor(private readonly chain: ModelChain) {}

  /** `options.budgetExhausted`: the workflow's budget is spent, the rules diagnose without asking the model. */
  async diagnose(input: IncidentTaskInput, options: ModelCallOptions = {}): Promise<MeteredDiagnosis> {
    const answer = await answerOneStep(
      this.chain,
      {
        system: SYSTEM_PROMPT,
        prompt: JSON.stringify({ alert: input.alert, deviceHistory: input.enrichment }, null, 2),
        answerSchema: ModelDiagnosisAnswer,
        input,
        maxOutputTokens: 800,
      },
      options,
    );
    const modelAsked = !answer.usage.model.startsWith('fallback/');
    return {
      ...answer.value,
      diagnoser: answer.servedBy,
      inputTokens: modelAsked ? answer.usage.inputTokens : null,
      outputTokens: modelAsked ? answer.usage.outputTokens : null,
      modelUsage: answer.usage,
    };
  }
}

/** A diagnoser (the offline rules) as a model chain's non-LLM fallback: the diagnosis without who made it, from the task input. */
export function ruleDiagnosisFallback(rules: IncidentDiagnoser): NonLlmFallback {
  return {
    name: rules.name,
    answer: async (input: unknown) => {
      const { severity, cause, transient, proposedFix, confidence }: IncidentDiagnosed = await rules.diagnose(IncidentTaskInput.parse(input));
      return { severity, cause, transient, proposedFix, confidence };
    },
  };
}
