import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ModelChain, ProviderBreakers } from './model-chain';
import { scriptedLanguageModel } from './scripted-model';
import { InMemoryWorkflowUsage, WorkflowCallBudget, recordModelCallUsage, stricterLimits, workflowBudgetExhausted } from './workflow-usage';

const environment = { maxTokens: 1_000, maxCostUsd: 1 };

describe('the per-workflow budget with a declared one', () => {
  it('holds a call to the stricter of each limit, the environment alone when nothing is declared', () => {
    expect(stricterLimits(environment, undefined)).toEqual(environment);
    expect(stricterLimits(environment, { maxTokens: 50_000, maxCostUsd: 0.05, maxModelCalls: 3 })).toEqual({ maxTokens: 1_000, maxCostUsd: 0.05, maxModelCalls: 3 });
    expect(stricterLimits(environment, { maxTokens: 200 })).toEqual({ maxTokens: 200, maxCostUsd: 1 });
    expect(stricterLimits({ ...environment, maxModelCalls: 2 }, { maxModelCalls: 5 })).toMatchObject({ maxModelCalls: 2 });
  });

  it('counts model calls (a run\u2019s iterations, one per one-step call a model answered, none for the fallback) and stops at the limit', async () => {
    const ledger = new InMemoryWorkflowUsage();
    await ledger.record('wf-1', 'run-1', { iterations: 2, inputTokens: 10, outputTokens: 5, costUsd: 0, servedBy: ['m/1'] });
    await recordModelCallUsage(ledger, 'wf-1', 'wf-1:1:0', { model: 'scripted/m', inputTokens: 0, outputTokens: 0, latencyMs: 1, costUsd: 0 });
    await recordModelCallUsage(ledger, 'wf-1', 'wf-1:1:0', { model: 'scripted/m', inputTokens: 0, outputTokens: 0, latencyMs: 1, costUsd: 0 });
    await recordModelCallUsage(ledger, 'wf-1', 'wf-1:2:0', { model: 'fallback/rules', inputTokens: 0, outputTokens: 0, latencyMs: 1, costUsd: 0 });
    expect(await ledger.spent('wf-1')).toEqual({ tokens: 15, costUsd: 0, modelCalls: 3, runIds: ['run-1', 'wf-1:1:0'] });

    const lines: string[] = [];
    const budget = new WorkflowCallBudget(ledger, environment, { log: (line) => lines.push(line) });
    expect(await budget.callOptions('wf-1', 'agents/test')).toEqual({ budgetExhausted: null });
    expect(await budget.callOptions('wf-1', 'agents/test', { maxModelCalls: 4 })).toEqual({ budgetExhausted: null });
    expect(await budget.callOptions('wf-1', 'agents/test', { maxModelCalls: 3 })).toEqual({ budgetExhausted: 'workflow wf-1 has made 3 of its 3 model calls' });
    expect(await budget.callOptions('wf-1', 'agents/test', { maxCostUsd: 0 })).toEqual({ budgetExhausted: 'workflow wf-1 has spent 0.0000 of its 0 USD' });
    expect(lines).toHaveLength(2);
    // A spend recorded before model calls were counted has none.
    expect(workflowBudgetExhausted('wf-2', { tokens: 0, costUsd: 0 }, { ...environment, maxModelCalls: 1 })).toBeNull();
  });
});

describe('ModelChain.call with model settings', () => {
  it('uses the settings\u2019 temperature and output token cap over the request\u2019s, and keeps the request\u2019s where unset', async () => {
    const model = scriptedLanguageModel(['{"ok":true}']);
    const chain = new ModelChain({ models: [model], fallback: null, breakers: new ProviderBreakers(), prices: {}, resilience: { attemptsPerModel: 1 } });
    const request = { system: 'S', transcript: [{ role: 'user' as const, content: 'hi' }], tools: [], answerSchema: z.object({ ok: z.boolean() }), temperature: 0.9, maxOutputTokens: 50 };
    await chain.call(request, null, { model: { temperature: 0.1, maxOutputTokens: 400 } });
    await chain.call(request, null, { model: { maxOutputTokens: 70 } });
    await chain.call(request, null);
    expect(model.doGenerateCalls.map(({ temperature, maxOutputTokens }) => ({ temperature, maxOutputTokens }))).toEqual([
      { temperature: 0.1, maxOutputTokens: 400 },
      { temperature: 0.9, maxOutputTokens: 70 },
      { temperature: 0.9, maxOutputTokens: 50 },
    ]);
  });
});
