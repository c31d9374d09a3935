import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import type { ApprovalDecided, Effect, ModelDecision, ModelResponded, ToolCallRequest } from '@troupe/contracts';
import { reactLoopGateId, reactLoopMachine, type ReactLoopContext, type ReactLoopEvent, type ReactLoopGate, type ReactLoopInput } from '@troupe/statecharts';

const runId = 'run-wf-1_3_0';
const baseInput: ReactLoopInput = {
  runId,
  agent: 'drafter',
  parent: { workflowId: 'wf-1', effectId: 'wf-1:3:0', task: 'reply.draft' },
  prompt: 'Draft a reply to Ann.',
  input: { email: 'ann' },
  budget: { maxIterations: 5, maxTokens: 10_000, maxCostUsd: 1 },
  workflowBudget: { maxTokens: 100_000, maxCostUsd: 10, spentTokens: 0, spentCostUsd: 0 },
  maxInvalidAnswers: 2,
};

type Actions = Array<{ type: string; params?: unknown }>;
interface Run {
  snapshot: AnyMachineSnapshot;
  effects: Effect[][];
  context: ReactLoopContext;
  /** Sends one more event; returns the effects it emitted and whether the machine accepted it. */
  send(event: ReactLoopEvent): { effects: Effect[]; accepted: boolean };
}

function effectsOf(actions: Actions): Effect[] {
  return actions.filter((a) => a.type === 'requestEffect').map((a) => a.params as Effect);
}

function run(events: ReactLoopEvent[], input: Partial<ReactLoopInput> = {}): Run {
  const [first, actions] = initialTransition(reactLoopMachine, { ...baseInput, ...input }) as [AnyMachineSnapshot, Actions];
  const state: Run = {
    snapshot: first,
    effects: [effectsOf(actions)],
    get context() {
      return this.snapshot.context as ReactLoopContext;
    },
    send(event) {
      const accepted = this.snapshot.can(event as never);
      const [next, nextActions] = transition(reactLoopMachine, this.snapshot as never, event) as unknown as [AnyMachineSnapshot, Actions];
      this.snapshot = next;
      const emitted = effectsOf(nextActions);
      this.effects.push(emitted);
      return { effects: emitted, accepted };
    },
  };
  for (const event of events) state.send(event);
  return state;
}

const usage = { model: 'openai-compatible.chat/primary', inputTokens: 100, outputTokens: 20, latencyMs: 5, costUsd: 0.001 };
const attempt = { hop: 0, model: usage.model, attempt: 1, outcome: 'ok' as const, status: 200, retryAfterMs: null, latencyMs: 5, backoffMs: null, error: null };

function responded(step: number, decision: ModelDecision, overrides: Partial<ModelResponded['usage']> = {}): ReactLoopEvent {
  return { type: 'model.responded', payload: { effectId: `${runId}:${step + 1}:0`, step, decision, usage: { ...usage, ...overrides }, attempts: [attempt] } };
}
const answer = (value: unknown): ModelDecision => ({ kind: 'answer', value, text: JSON.stringify(value) });
const invalid: ModelDecision = { kind: 'invalid_answer', text: '{"body": 3', issues: ['(root): not valid JSON'] };
const call = (callId: string, tool = 'thread_lookup', requiresApproval = false): ToolCallRequest => ({ callId, tool, input: { q: callId }, requiresApproval });
const toolCalls = (...calls: ToolCallRequest[]): ModelDecision => ({ kind: 'tool_calls', text: '', calls });
const toolResult = (callId: string, output: unknown = { found: callId }, tool = 'thread_lookup'): ReactLoopEvent => ({
  type: 'tool.responded',
  payload: { effectId: `e-${callId}`, callId, tool, ok: true, output, error: null, latencyMs: 1 },
});
function decided(context: Pick<ReactLoopContext, 'runId' | 'iterations'>, gate: ReactLoopGate, decision: ApprovalDecided['decision'], overrides: Partial<ApprovalDecided> = {}): ReactLoopEvent {
  return {
    type: 'approval.decided',
    payload: { gateId: reactLoopGateId(context, gate), decision, approver: { id: 'alice', roles: ['approver'] }, comment: null, editedText: null, ...overrides },
  };
}

describe('react-loop machine', () => {
  it('starts thinking and asks the model for step 0 with the prompt as the transcript', () => {
    const { snapshot, effects } = run([]);
    expect(snapshot.value).toBe('thinking');
    expect(effects[0]).toEqual([{ kind: 'model.call', agent: 'drafter', step: 0, transcript: [{ role: 'user', content: 'Draft a reply to Ann.' }], input: { email: 'ann' } }]);
  });

  it('ends done on a valid answer and tells the parent with the usage', () => {
    const r = run([responded(0, answer({ body: 'Yes' }))]);
    expect(r.snapshot.value).toBe('done');
    expect(r.snapshot.status).toBe('done');
    expect(r.effects[1]).toEqual([
      {
        kind: 'agent.result',
        agent: 'drafter',
        parent: baseInput.parent,
        outcome: { status: 'done', answer: { body: 'Yes' } },
        usage: { iterations: 1, inputTokens: 100, outputTokens: 20, costUsd: 0.001, servedBy: [usage.model] },
        input: { email: 'ann' },
      },
    ]);
  });

  it('runs the tool calls of one step together and waits for all their results before thinking again', () => {
    const r = run([responded(0, toolCalls(call('a'), call('b', 'sender_history')))]);
    expect(r.snapshot.value).toBe('acting');
    expect(r.effects[1]).toEqual([
      { kind: 'tool.call', agent: 'drafter', callId: 'a', tool: 'thread_lookup', input: { q: 'a' } },
      { kind: 'tool.call', agent: 'drafter', callId: 'b', tool: 'sender_history', input: { q: 'b' } },
    ]);
    // Results arrive in the other order; the first one does not end the join.
    expect(r.send(toolResult('b', { n: 2 }, 'sender_history')).effects).toEqual([]);
    expect(r.snapshot.value).toBe('acting');
    const { effects } = r.send(toolResult('a', { n: 1 }));
    expect(r.snapshot.value).toBe('thinking');
    expect(effects).toHaveLength(1);
    const next = effects[0];
    expect(next.kind === 'model.call' && next.step).toBe(1);
    expect(next.kind === 'model.call' && next.transcript.slice(1)).toEqual([
      { role: 'assistant', content: '', toolCalls: [{ callId: 'a', tool: 'thread_lookup', input: { q: 'a' } }, { callId: 'b', tool: 'sender_history', input: { q: 'b' } }] },
      { role: 'tool', callId: 'a', tool: 'thread_lookup', output: { n: 1 } },
      { role: 'tool', callId: 'b', tool: 'sender_history', output: { n: 2 } },
    ]);
  });

  it('feeds a failed tool call back to the model as an error result', () => {
    const r = run([responded(0, toolCalls(call('a')))]);
    r.send({ type: 'tool.responded', payload: { effectId: 'e', callId: 'a', tool: 'thread_lookup', ok: false, output: null, error: 'input: q must be a string', latencyMs: 0 } });
    expect(r.context.transcript.at(-1)).toEqual({ role: 'tool', callId: 'a', tool: 'thread_lookup', output: { error: 'input: q must be a string' } });
  });

  it('does not accept a repeated tool result, a result of an unknown call, or a stale model response', () => {
    const r = run([responded(0, toolCalls(call('a'), call('b')))]);
    expect(r.send(toolResult('a')).accepted).toBe(true);
    expect(r.send(toolResult('a')).accepted).toBe(false);
    expect(r.send(toolResult('zzz')).accepted).toBe(false);
    expect(r.send(responded(0, answer({}))).accepted).toBe(false);
    expect(r.snapshot.value).toBe('acting');
    r.send(toolResult('b'));
    expect(r.send(responded(0, answer({}))).accepted).toBe(false);
    expect(r.snapshot.value).toBe('thinking');
  });

  it('retries an invalid answer with the validation errors fed back, then asks a human', () => {
    const r = run([responded(0, invalid)]);
    expect(r.snapshot.value).toBe('thinking');
    const retry = r.effects[1][0];
    expect(retry.kind === 'model.call' && retry.transcript.at(-1)).toEqual({
      role: 'user',
      content: 'That answer is not valid:\n- (root): not valid JSON\nAnswer again with only the JSON object.',
    });
    r.send(responded(1, invalid));
    expect(r.snapshot.value).toBe('thinking');
    const { effects } = r.send(responded(2, invalid));
    expect(r.snapshot.value).toEqual({ awaitingHuman: 'answerReview' });
    expect(r.snapshot.hasTag('approval')).toBe(true);
    expect(effects).toEqual([
      expect.objectContaining({ kind: 'approval.request', gate: 'answer-review', gateId: `${runId}:answer-review:3`, proposed: { text: invalid.text, issues: invalid.issues } }),
    ]);
  });

  it('ends done with the answer a human edited in at the answer review', () => {
    const r = run([responded(0, invalid), responded(1, invalid), responded(2, invalid)]);
    r.send(decided(r.context, 'answer-review', 'edited', { editedText: '{"body":"Fixed by hand"}' }));
    expect(r.snapshot.value).toBe('done');
    expect(r.context.answer).toEqual({ body: 'Fixed by hand' });
  });

  it('lets the model try again when the human approves at the answer review, and fails when they reject', () => {
    const again = run([responded(0, invalid), responded(1, invalid), responded(2, invalid)]);
    again.send(decided(again.context, 'answer-review', 'approved'));
    expect(again.snapshot.value).toBe('thinking');
    expect(again.context.invalidAnswers).toBe(0);

    const rejected = run([responded(0, invalid), responded(1, invalid), responded(2, invalid)]);
    rejected.send(decided(rejected.context, 'answer-review', 'rejected', { comment: 'not worth it' }));
    expect(rejected.snapshot.value).toBe('failed');
    expect(rejected.context.failure).toEqual({ code: 'human.rejected', reason: 'a human rejected the run after invalid answers: not worth it' });
  });

  it('suspends a step with a tool that requires approval until a human decides, then runs it', () => {
    const r = run([responded(0, toolCalls(call('a'), call('send', 'send_fax', true)))]);
    expect(r.snapshot.value).toEqual({ awaitingHuman: 'toolApproval' });
    expect(r.effects[1]).toEqual([expect.objectContaining({ kind: 'approval.request', gate: 'tool-approval', gateId: `${runId}:tool-approval:1` })]);
    // A viewer may not decide; the wrong gate id is not accepted either.
    expect(r.send({ ...decided(r.context, 'tool-approval', 'approved', { approver: { id: 'v', roles: ['viewer'] } }) }).accepted).toBe(false);
    expect(r.send(decided({ runId, iterations: 7 }, 'tool-approval', 'approved')).accepted).toBe(false);
    const { effects } = r.send(decided(r.context, 'tool-approval', 'approved'));
    expect(r.snapshot.value).toBe('acting');
    expect(effects.map((e) => e.kind === 'tool.call' && e.tool)).toEqual(['thread_lookup', 'send_fax']);
  });

  it('refuses every call of the step when the human rejects, and tells the model why', () => {
    const r = run([responded(0, toolCalls(call('send', 'send_fax', true)))]);
    r.send(decided(r.context, 'tool-approval', 'rejected', { comment: 'no faxes' }));
    expect(r.snapshot.value).toBe('thinking');
    expect(r.context.transcript.at(-1)).toEqual({ role: 'tool', callId: 'send', tool: 'send_fax', output: { error: 'refused by a human: no faxes' } });
  });

  it('stops a model that keeps asking for tools at the iteration limit, with the reason', () => {
    const r = run([], { budget: { ...baseInput.budget, maxIterations: 3 } });
    for (let step = 0; step < 3; step += 1) {
      r.send(responded(step, toolCalls(call(`c${step}`))));
      r.send(toolResult(`c${step}`));
    }
    expect(r.snapshot.value).toBe('failed');
    expect(r.context.iterations).toBe(3);
    expect(r.context.failure).toEqual({ code: 'budget.iterations', reason: 'iteration limit reached: 3 of 3 model calls made and the model still wants to continue' });
    const result = r.effects.at(-1)?.[0];
    expect(result).toMatchObject({ kind: 'agent.result', outcome: { status: 'failed', code: 'budget.iterations' }, usage: { iterations: 3 } });
  });

  it('stops at the cost limit before running the tools of the call that reached it', () => {
    const r = run([], { budget: { ...baseInput.budget, maxCostUsd: 0.0025 } });
    r.send(responded(0, toolCalls(call('a'))));
    r.send(toolResult('a'));
    const { effects } = r.send(responded(1, toolCalls(call('b')), { costUsd: 0.002 }));
    expect(r.snapshot.value).toBe('failed');
    expect(r.context.failure?.code).toBe('budget.cost');
    expect(r.context.failure?.reason).toBe('cost budget reached: 0.003000 of 0.002500 USD spent by this run');
    expect(effects.map((e) => e.kind)).toEqual(['agent.result']);
  });

  it('stops at the token limit of the run and at the budgets of the workflow', () => {
    const tokens = run([responded(0, toolCalls(call('a')), { inputTokens: 9_000, outputTokens: 1_000 })]);
    expect(tokens.context.failure?.code).toBe('budget.tokens');
    const workflowTokens = run([responded(0, toolCalls(call('a')))], { workflowBudget: { maxTokens: 1_000, maxCostUsd: 10, spentTokens: 900, spentCostUsd: 0 } });
    expect(workflowTokens.context.failure).toEqual({ code: 'budget.workflow_tokens', reason: 'workflow token budget reached: 1020 of 1000 tokens (900 before this run)' });
    const workflowCost = run([responded(0, toolCalls(call('a')))], { workflowBudget: { maxTokens: 100_000, maxCostUsd: 0.01, spentTokens: 0, spentCostUsd: 0.0095 } });
    expect(workflowCost.context.failure?.code).toBe('budget.workflow_cost');
  });

  it('accepts a valid answer even when its call used up the budget', () => {
    const r = run([responded(0, answer({ body: 'ok' }), { inputTokens: 20_000 })]);
    expect(r.snapshot.value).toBe('done');
  });

  it('fails when a model call or a tool call failed for good', () => {
    const model = run([{ type: 'effect.failed', payload: { effectId: `${runId}:1:0`, kind: 'model.call', reason: 'every hop failed' } }]);
    expect(model.context.failure).toEqual({ code: 'model.failed', reason: `model call ${runId}:1:0 failed for good: every hop failed` });
    const tool = run([responded(0, toolCalls(call('a'))), { type: 'effect.failed', payload: { effectId: 'e-a', kind: 'tool.call', reason: 'gone' } }]);
    expect(tool.context.failure?.code).toBe('tool.failed');
    expect(tool.effects.at(-1)?.[0]).toMatchObject({ kind: 'agent.result', outcome: { status: 'failed', code: 'tool.failed' } });
  });

  it('fails with the reason on cancellation in any state that is not final', () => {
    const r = run([responded(0, toolCalls(call('a')))]);
    r.send({ type: 'workflow.cancel_requested', payload: { reason: 'parent cancelled', requestedBy: { id: 'bob', roles: ['operator'] } } });
    expect(r.snapshot.value).toBe('failed');
    expect(r.context.failure).toEqual({ code: 'cancelled', reason: 'cancelled by bob: parent cancelled' });
    expect(r.send(toolResult('a')).accepted).toBe(false);
  });
});
