import { MockLanguageModelV3 } from 'ai/test';
import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import { InMemoryToolResultStore, ProviderBreakers, agentResultEvent, agentRunRequest, executeModelCall, executeToolCall, type AgentRegistry } from '@troupe/agent-kit';
import type { EffectResult } from '@troupe/bus';
import { AgentRunRequested, type Effect, type Email, type Envelope } from '@troupe/contracts';
import { reactLoopMachine } from '@troupe/statecharts';
import { MailboxIndex } from './corpus-tools';
import { createTriageAgents } from './triage-agents';

const email: Email = {
  messageId: '<2@x>',
  from: 'Ann <ann@example.org>',
  to: 'me@example.org',
  subject: 'Re: Lunch on Friday?',
  date: null,
  text: 'So, noon as we said?',
  headers: {},
  origin: {},
};
const mailbox = new MailboxIndex([{ ...email, messageId: '<1@x>', subject: 'Lunch on Friday?', text: 'Shall we meet on Friday?' }, email]);
const usage = { inputTokens: { total: 100, noCache: undefined, cacheRead: undefined, cacheWrite: undefined }, outputTokens: { total: 20, text: undefined, reasoning: undefined } };

function agents(models: MockLanguageModelV3[]): AgentRegistry {
  return createTriageAgents({
    models,
    prices: { 'mock-model-id': { inputUsdPerMillionTokens: 10, outputUsdPerMillionTokens: 50 } },
    breakers: new ProviderBreakers(),
    resilience: { attemptsPerModel: 1 },
    budget: { maxIterations: 4, maxTokens: 10_000, maxCostUsd: 1 },
    mailbox: async () => mailbox,
  });
}

/** Drives one run in process: the pure machine, and the executors the agents app runs for its effects. */
async function drive(registry: AgentRegistry, agent: string, input: unknown): Promise<EffectResult> {
  const task: Envelope = {
    id: 'wf-1:3:0',
    type: 'agent.task_requested',
    workflowId: 'wf-1',
    correlationId: 'wf-1',
    causationId: null,
    occurredAt: '2026-12-01T09:00:00.000Z',
    source: 'test',
    payload: { effectId: 'wf-1:3:0', agent, task: registry.get(agent)?.task, input },
  };
  const start = agentRunRequest(registry.get(agent)!, task, { maxTokens: 100_000, maxCostUsd: 10, spentTokens: 0, spentCostUsd: 0 }, 'test', new Date(0));
  let [snapshot, actions] = initialTransition(reactLoopMachine, { ...AgentRunRequested.parse(start.payload), runId: start.workflowId }) as [AnyMachineSnapshot, Array<{ type: string; params?: unknown }>];
  const store = new InMemoryToolResultStore();
  for (let version = 1; version < 50; version += 1) {
    const effects = actions.filter((a) => a.type === 'requestEffect').map((a) => a.params as Effect);
    const results: EffectResult[] = [];
    for (const [n, effect] of effects.entries()) {
      const effectId = `${start.workflowId}:${version}:${n}`;
      if (effect.kind === 'model.call') results.push(await executeModelCall(registry, { ...effect, effectId, runId: start.workflowId }));
      else if (effect.kind === 'tool.call') results.push(await executeToolCall(registry, { ...effect, effectId, runId: start.workflowId }, store));
      else if (effect.kind === 'agent.result') return agentResultEvent(registry, { ...effect, effectId, runId: start.workflowId });
    }
    for (const result of results) {
      [snapshot, actions] = transition(reactLoopMachine, snapshot as never, result as never) as unknown as [AnyMachineSnapshot, Array<{ type: string; params?: unknown }>];
    }
  }
  throw new Error(`run did not end: ${JSON.stringify(snapshot.value)}`);
}

describe('triage ReAct agents', () => {
  it('lets the drafter look the thread up before it answers, and maps the answer to reply.drafted', async () => {
    let call = 0;
    const model = new MockLanguageModelV3({
      doGenerate: async () => {
        call += 1;
        return call === 1
          ? { content: [{ type: 'tool-call', toolCallId: 't1', toolName: 'thread_lookup', input: JSON.stringify({ subject: email.subject, excludeMessageId: email.messageId }) }], finishReason: { unified: 'tool-calls', raw: 'tool_calls' }, usage, warnings: [] }
          : { content: [{ type: 'text', text: '{"body":"Hello Ann, noon on Friday works.","reasoning":"The thread agreed on Friday."}' }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] };
      },
    });
    const result = await drive(agents([model]), 'drafter', { email });
    expect(result).toEqual({
      type: 'reply.drafted',
      payload: { to: 'Ann <ann@example.org>', subject: 'Re: Lunch on Friday?', body: 'Hello Ann, noon on Friday works.', reasoning: 'The thread agreed on Friday.', drafter: 'react-loop/mock-provider/mock-model-id' },
    });
    // The second model call saw the earlier message of the thread as the tool's result.
    expect(JSON.stringify(model.doGenerateCalls[1].prompt)).toContain('Shall we meet on Friday?');
  });

  it('answers with the offline defaults when no model is configured (the non-LLM fallback hop)', async () => {
    const registry = agents([]);
    const draft = await drive(registry, 'drafter', { email });
    expect(draft).toMatchObject({ type: 'reply.drafted', payload: { drafter: 'react-loop/fallback/template', to: 'Ann <ann@example.org>' } });
    const summary = await drive(registry, 'summariser', { email });
    expect(summary).toMatchObject({ type: 'email.summarised', payload: { summariser: 'react-loop/fallback/extractive' } });
    const quarantine = await drive(registry, 'spam-quarantine', { email, classification: { label: 'spam', confidence: 0.99, classifier: 'nb' }, reviewedBy: null });
    expect(quarantine).toMatchObject({ type: 'email.quarantined', payload: { folder: 'quarantine', quarantinedBy: 'react-loop/fallback/rules' } });
  });
});
