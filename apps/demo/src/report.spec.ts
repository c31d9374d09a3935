import { describe, expect, it } from 'vitest';
import type { WorkflowChanged } from '@troupe/contracts';
import { agentUsage, handedToHumanByAgent } from './report';

describe('agentUsage', () => {
  it('sums tokens and cost per workflow and counts the steps each model or fallback served', () => {
    const run = (runId: string, parentWorkflowId: string, tokens: number, costUsd: number, servedBy: string[]) => ({ runId, parentWorkflowId, agent: 'drafter', tokens, costUsd, servedBy, version: 3 });
    const report = agentUsage([
      run('r1', 'wf-1', 100, 0.001, ['openai.chat/gpt', 'openai.chat/gpt']),
      run('r2', 'wf-1', 50, 0.0005, ['fallback/template']),
      run('r3', 'wf-2', 10, 0, ['fallback/template']),
    ]);
    expect(report).toEqual({
      runs: 3,
      workflowsWithRuns: 2,
      tokens: { total: 160, perWorkflowP50: 10, perWorkflowMax: 150 },
      costUsd: { total: 0.0015, perWorkflowP50: 0, perWorkflowMax: 0.0015 },
      stepsServedBy: { 'openai.chat/gpt': 2, 'fallback/template': 2 },
    });
  });
});

describe('handedToHumanByAgent', () => {
  it('counts the workflows whose latest change names a failed agent', () => {
    const changed = (tags: Record<string, string>) => ({ last: { tags } as unknown as WorkflowChanged });
    expect(handedToHumanByAgent([changed({ agentFailed: 'drafter' }), changed({ agentFailed: 'drafter', label: 'ham' }), changed({ agentFailed: 'classifier' }), changed({}), { last: null }])).toEqual({
      drafter: 2,
      classifier: 1,
    });
  });
});
