import { APICallError } from 'ai';
import { describe, expect, it } from 'vitest';
import { ModelChain, ModelFallbackReporter, ProviderBreakers, scriptedLanguageModel, type ChatLanguageModel } from '@troupe/agent-kit';
import { IncidentTaskInput } from '@troupe/contracts';
import { detectAlerts, loadSuthaharanReadings } from '@troupe/sensor-data';
import { incidentResponseMachine, incidentTaskInput } from '@troupe/statecharts';
import { initialTransition } from 'xstate';
import { RuleIncidentDiagnoser } from './incident-agents';
import { ModelIncidentDiagnoser, ruleDiagnosisFallback } from './model-incident-diagnoser';

const [alert] = detectAlerts(loadSuthaharanReadings()).alerts;
const input = (): IncidentTaskInput => {
  const [snapshot] = initialTransition(incidentResponseMachine, { workflowId: 'incident-t', alert, approvalTimeoutMs: 1, escalationTimeoutMs: 1 });
  return IncidentTaskInput.parse(incidentTaskInput(snapshot.context));
};
const diagnosis = { severity: 'critical', cause: 'kettle near mote', transient: false, proposedFix: { action: 'inspect-enclosure', description: 'remove it' }, confidence: 0.7 };
const unavailable = () => new APICallError({ message: 'unavailable', url: 'u', requestBodyValues: {}, statusCode: 503 });
const quiet = { warn: () => undefined, log: () => undefined };

function diagnoser(model: ChatLanguageModel, breakers = new ProviderBreakers(undefined, new ModelFallbackReporter({ logger: quiet }))): ModelIncidentDiagnoser {
  const chain = new ModelChain({
    models: [model],
    fallback: ruleDiagnosisFallback(new RuleIncidentDiagnoser()),
    breakers,
    prices: { 'scripted-model': { inputUsdPerMillionTokens: 1, outputUsdPerMillionTokens: 1 } },
    resilience: { attemptsPerModel: 2, initialDelayMs: 1, maxDelayMs: 1 },
  });
  return new ModelIncidentDiagnoser(chain);
}

describe('ModelIncidentDiagnoser over the model chain', () => {
  it('asks the model for a zod-validated diagnosis, named after the model that served, with its usage', async () => {
    const model = scriptedLanguageModel([JSON.stringify(diagnosis)]);
    const answer = await diagnoser(model).diagnose(input());
    expect(answer).toMatchObject({ ...diagnosis, diagnoser: 'chain/scripted/scripted-model', modelUsage: { model: 'scripted/scripted-model' } });
    expect(model.doGenerateCalls).toHaveLength(1);
    expect(JSON.stringify(model.doGenerateCalls[0].prompt)).toContain('TelosB');
  });

  it('retries a transient failure, then the offline rules diagnose when the model cannot be reached', async () => {
    const model = scriptedLanguageModel([unavailable()]);
    const answer = await diagnoser(model).diagnose(input());
    const rules = await new RuleIncidentDiagnoser().diagnose(input());
    expect(answer).toMatchObject({ cause: rules.cause, proposedFix: rules.proposedFix, diagnoser: 'chain/fallback/offline/rules', inputTokens: null });
    expect(answer.modelUsage).toMatchObject({ model: 'fallback/offline/rules', inputTokens: 0, costUsd: 0 });
    expect(model.doGenerateCalls).toHaveLength(2);
  });

  it('skips the model while its circuit is open, sharing the breakers of the process', async () => {
    const model = scriptedLanguageModel([unavailable()]);
    const breakers = new ProviderBreakers({ breakerThreshold: 2, halfOpenAfterMs: 60_000 }, new ModelFallbackReporter({ logger: quiet }));
    await diagnoser(model, breakers).diagnose(input());
    expect((await diagnoser(model, breakers).diagnose(input())).diagnoser).toBe('chain/fallback/offline/rules');
    expect(model.doGenerateCalls).toHaveLength(2);
  });

  it('lets the offline rules decide when the answer is not a diagnosis, keeping the tokens it cost', async () => {
    const model = scriptedLanguageModel(['{"severity":"apocalyptic"}']);
    const answer = await diagnoser(model).diagnose(input());
    expect(answer.diagnoser).toBe('chain/fallback/offline/rules (model answer invalid)');
    expect(answer.modelUsage?.model).toBe('scripted/scripted-model');
    expect(model.doGenerateCalls).toHaveLength(1);
  });

  it('asks no model when the workflow budget is spent, and says so', async () => {
    const model = scriptedLanguageModel([JSON.stringify(diagnosis)]);
    const answer = await diagnoser(model).diagnose(input(), { budgetExhausted: 'workflow incident-t has spent 500 of its 400 tokens' });
    expect(answer.diagnoser).toBe('chain/fallback/offline/rules (workflow budget exhausted)');
    expect(answer.modelUsage).toMatchObject({ inputTokens: 0, outputTokens: 0, costUsd: 0 });
    expect(model.doGenerateCalls).toHaveLength(0);
  });
});
