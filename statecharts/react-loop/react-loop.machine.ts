import { and, assign, enqueueActions, setup } from 'xstate';
import type {
  AgentRunRequested,
  ApprovalDecided,
  EffectFailed,
  Effect,
  ModelResponded,
  Role,
  RunBudget,
  RunOutcome,
  RunParent,
  RunUsage,
  ToolCallRequest,
  ToolResponded,
  TranscriptMessage,
  WorkflowBudget,
  WorkflowCancelRequested,
} from '@troupe/contracts';

/**
 * The ReAct loop of one agent run (DESIGN.md "Agents"): one instance per run.
 *
 * thinking ─(model asks for tools)→ acting ─(every result in)→ observing ─→ thinking …
 * thinking ─(valid answer)→ done
 * thinking ─(invalid answer, retries left)→ observing ─→ thinking (the validation errors fed back)
 * thinking ─(invalid answer, no retries left)→ awaitingHuman.answerReview
 * thinking ─(a requested tool requires approval)→ awaitingHuman.toolApproval ─(approved)→ acting
 * observing / after a model answer ─(a budget reached)→ failed, with the budget's code and reason
 * a model call that failed for good (`effect.failed`) → failed; `workflow.cancel_requested` → failed
 *
 * Every model call and tool call leaves as an effect (`model.call`, `tool.call`); the tool calls of one
 * step leave together (they run in parallel) and the machine waits in `acting` until all their
 * `tool.responded` events are in (the join). `done` and `failed` emit one `agent.result` effect that
 * tells the parent workflow how the run ended. Pure: imports only xstate and contract types.
 */

/** Version of this definition, stored with every snapshot. */
export const REACT_LOOP_MACHINE_VERSION = '1';

/** Roles that may decide a run's tool approval and answer review. */
export const REACT_LOOP_APPROVER_ROLES: Role[] = ['approver', 'admin'];

/** Machine input: the run request and the run's id. */
export type ReactLoopInput = AgentRunRequested & { runId: string };

/** Why a run failed, as its parent is told. */
export interface RunFailure {
  code: string;
  reason: string;
}

/** The machine's context. */
export interface ReactLoopContext {
  runId: string;
  agent: string;
  parent: RunParent;
  budget: RunBudget;
  workflowBudget: WorkflowBudget;
  maxInvalidAnswers: number;
  /** The task input (for the non-LLM fallback of the model chain). */
  input: unknown;
  transcript: TranscriptMessage[];
  /** Model calls requested so far (each is one iteration). */
  iterations: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** Which model or fallback served each model call, in order. */
  servedBy: string[];
  /** The tool calls of the current step. */
  pendingCalls: ToolCallRequest[];
  /** Results of the current step's tool calls, by call id. */
  results: Record<string, ToolResponded>;
  /** Invalid answers since the last valid step or human decision. */
  invalidAnswers: number;
  lastInvalidAnswer: { text: string; issues: string[] } | null;
  answer: unknown;
  failure: RunFailure | null;
}

/** Events the machine accepts; payloads are validated by the runtime against the contract schemas. */
export type ReactLoopEvent =
  | { type: 'model.responded'; payload: ModelResponded }
  | { type: 'tool.responded'; payload: ToolResponded }
  | { type: 'approval.decided'; payload: ApprovalDecided }
  | { type: 'effect.failed'; payload: EffectFailed }
  | { type: 'workflow.cancel_requested'; payload: WorkflowCancelRequested };

/** The gates of a run. */
export type ReactLoopGate = 'tool-approval' | 'answer-review';

/** The id of a gate instance: per gate and iteration, so a decision names exactly one. */
export function reactLoopGateId(context: Pick<ReactLoopContext, 'runId' | 'iterations'>, gate: ReactLoopGate): string {
  return `${context.runId}:${gate}:${context.iterations}`;
}

/** Totals of a run for its parent. */
export function runUsage(context: ReactLoopContext): RunUsage {
  return {
    iterations: context.iterations,
    inputTokens: context.inputTokens,
    outputTokens: context.outputTokens,
    costUsd: context.costUsd,
    servedBy: context.servedBy,
  };
}

/**
 * The budget a run has reached, or null: iterations before the next model call, tokens and cost (of the
 * run, and of the workflow counting what it spent before the run) after every model call.
 */
export function budgetReached(context: ReactLoopContext, options: { beforeModelCall: boolean }): RunFailure | null {
  const tokens = context.inputTokens + context.outputTokens;
  const { budget, workflowBudget: workflow } = context;
  if (options.beforeModelCall && context.iterations >= budget.maxIterations) {
    return { code: 'budget.iterations', reason: `iteration limit reached: ${context.iterations} of ${budget.maxIterations} model calls made and the model still wants to continue` };
  }
  if (tokens >= budget.maxTokens) {
    return { code: 'budget.tokens', reason: `token budget reached: ${tokens} of ${budget.maxTokens} tokens used by this run` };
  }
  if (context.costUsd >= budget.maxCostUsd) {
    return { code: 'budget.cost', reason: `cost budget reached: ${formatUsd(context.costUsd)} of ${formatUsd(budget.maxCostUsd)} USD spent by this run` };
  }
  if (workflow.spentTokens + tokens >= workflow.maxTokens) {
    return {
      code: 'budget.workflow_tokens',
      reason: `workflow token budget reached: ${workflow.spentTokens + tokens} of ${workflow.maxTokens} tokens (${workflow.spentTokens} before this run)`,
    };
  }
  if (workflow.spentCostUsd + context.costUsd >= workflow.maxCostUsd) {
    return {
      code: 'budget.workflow_cost',
      reason: `workflow cost budget reached: ${formatUsd(workflow.spentCostUsd + context.costUsd)} of ${formatUsd(workflow.maxCostUsd)} USD (${formatUsd(workflow.spentCostUsd)} before this run)`,
    };
  }
  return null;
}

function formatUsd(value: number): string {
  return value.toFixed(6);
}

function decidedAt(context: ReactLoopContext, event: ReactLoopEvent, gate: ReactLoopGate, decision: ApprovalDecided['decision']): boolean {
  return (
    event.type === 'approval.decided' &&
    event.payload.gateId === reactLoopGateId(context, gate) &&
    event.payload.decision === decision &&
    event.payload.approver.roles.some((role) => REACT_LOOP_APPROVER_ROLES.includes(role))
  );
}

function resultEffect(context: ReactLoopContext, outcome: RunOutcome): Effect {
  return { kind: 'agent.result', agent: context.agent, parent: context.parent, outcome, usage: runUsage(context), input: context.input };
}

/** Parses a human's edited answer: JSON when it is JSON, else the text itself. */
function editedAnswer(text: string | null): unknown {
  const trimmed = (text ?? '').trim();
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return trimmed;
  }
}

/** The react-loop machine definition (pure). */
export const reactLoopMachine = setup({
  types: {
    context: {} as ReactLoopContext,
    events: {} as ReactLoopEvent,
    input: {} as ReactLoopInput,
  },
  actions: {
    /** Emits an effect. The host collects it from the transition result; it never runs here. */
    requestEffect: (_, _effect: Effect) => undefined,
    recordModelUsage: assign(({ context, event }) => {
      if (event.type !== 'model.responded') return {};
      const { usage } = event.payload;
      return {
        inputTokens: context.inputTokens + usage.inputTokens,
        outputTokens: context.outputTokens + usage.outputTokens,
        costUsd: context.costUsd + usage.costUsd,
        servedBy: [...context.servedBy, usage.model],
      };
    }),
    recordAnswer: assign(({ context, event }) => {
      if (event.type !== 'model.responded' || event.payload.decision.kind !== 'answer') return {};
      const { decision } = event.payload;
      return { answer: decision.value, transcript: [...context.transcript, { role: 'assistant' as const, content: decision.text, toolCalls: [] }] };
    }),
    recordToolCalls: assign(({ context, event }) => {
      if (event.type !== 'model.responded' || event.payload.decision.kind !== 'tool_calls') return {};
      const { decision } = event.payload;
      return {
        pendingCalls: decision.calls,
        results: {},
        invalidAnswers: 0,
        transcript: [
          ...context.transcript,
          { role: 'assistant' as const, content: decision.text, toolCalls: decision.calls.map(({ callId, tool, input }) => ({ callId, tool, input })) },
        ],
      };
    }),
    /** Records an invalid answer and feeds the validation errors back as the next user message. */
    recordInvalidAnswer: assign(({ context, event }) => {
      if (event.type !== 'model.responded' || event.payload.decision.kind !== 'invalid_answer') return {};
      const { text, issues } = event.payload.decision;
      return {
        invalidAnswers: context.invalidAnswers + 1,
        lastInvalidAnswer: { text, issues },
        transcript: [
          ...context.transcript,
          { role: 'assistant' as const, content: text, toolCalls: [] },
          {
            role: 'user' as const,
            content: `That answer is not valid:\n${issues.map((issue) => `- ${issue}`).join('\n')}\nAnswer again with only the JSON object.`,
          },
        ],
      };
    }),
    recordToolResult: assign(({ context, event }) => {
      if (event.type !== 'tool.responded') return {};
      return { results: { ...context.results, [event.payload.callId]: event.payload } };
    }),
    /** Appends the step's tool results to the transcript, in the order the model asked for them. */
    observeResults: assign(({ context }) => ({
      transcript: [
        ...context.transcript,
        ...context.pendingCalls.map((call): TranscriptMessage => {
          const result = context.results[call.callId];
          return {
            role: 'tool',
            callId: call.callId,
            tool: call.tool,
            output: result === undefined ? { error: 'no result' } : result.ok ? result.output : { error: result.error ?? 'tool failed' },
          };
        }),
      ],
      pendingCalls: [],
      results: {},
    })),
    /** A human refused the step's tool calls: every call gets a refusal as its result. */
    refuseToolCalls: assign(({ context, event }) => {
      const comment = event.type === 'approval.decided' ? (event.payload.comment ?? event.payload.editedText) : null;
      const error = `refused by a human${comment === null ? '' : `: ${comment}`}`;
      return {
        results: Object.fromEntries(
          context.pendingCalls.map((call) => [call.callId, { effectId: 'human', callId: call.callId, tool: call.tool, ok: false, output: null, error, latencyMs: 0 }]),
        ),
      };
    }),
    failWith: assign((_, failure: RunFailure) => ({ failure })),
    /** Records the budget reached: the iteration limit counts only before another model call (`observing`). */
    failOnBudget: assign(({ context }, params: { beforeModelCall: boolean }) => ({ failure: budgetReached(context, params) })),
  },
  guards: {
    /** The response answers the model call in flight (a stale or repeated one is not accepted). */
    currentStep: ({ context, event }) => event.type === 'model.responded' && event.payload.step === context.iterations - 1,
    isAnswer: ({ event }) => event.type === 'model.responded' && event.payload.decision.kind === 'answer',
    isToolCalls: ({ event }) => event.type === 'model.responded' && event.payload.decision.kind === 'tool_calls',
    needsApproval: ({ event }) =>
      event.type === 'model.responded' && event.payload.decision.kind === 'tool_calls' && event.payload.decision.calls.some((call) => call.requiresApproval),
    invalidWithRetriesLeft: ({ context, event }) =>
      event.type === 'model.responded' && event.payload.decision.kind === 'invalid_answer' && context.invalidAnswers < context.maxInvalidAnswers,
    /** A budget is reached once this response's usage is counted. */
    budgetReachedWithThisCall: ({ context, event }) => {
      if (event.type !== 'model.responded') return false;
      const { usage } = event.payload;
      const after = {
        ...context,
        inputTokens: context.inputTokens + usage.inputTokens,
        outputTokens: context.outputTokens + usage.outputTokens,
        costUsd: context.costUsd + usage.costUsd,
      };
      return budgetReached(after, { beforeModelCall: false }) !== null;
    },
    budgetReachedBeforeCall: ({ context }) => budgetReached(context, { beforeModelCall: true }) !== null,
    isPendingResult: ({ context, event }) =>
      event.type === 'tool.responded' && context.pendingCalls.some((call) => call.callId === event.payload.callId) && context.results[event.payload.callId] === undefined,
    isLastResult: ({ context, event }) =>
      event.type === 'tool.responded' &&
      context.pendingCalls.every((call) => call.callId === event.payload.callId || context.results[call.callId] !== undefined),
    decided: ({ context, event }, params: { gate: ReactLoopGate; decision: ApprovalDecided['decision'] }) =>
      decidedAt(context, event, params.gate, params.decision),
  },
}).createMachine({
  id: 'react-loop',
  initial: 'thinking',
  context: ({ input }) => ({
    runId: input.runId,
    agent: input.agent,
    parent: input.parent,
    budget: input.budget,
    workflowBudget: input.workflowBudget,
    maxInvalidAnswers: input.maxInvalidAnswers,
    input: input.input,
    transcript: [{ role: 'user', content: input.prompt }],
    iterations: 0,
    inputTokens: 0,
    outputTokens: 0,
    costUsd: 0,
    servedBy: [],
    pendingCalls: [],
    results: {},
    invalidAnswers: 0,
    lastInvalidAnswer: null,
    answer: null,
    failure: null,
  }),
  on: {
    'workflow.cancel_requested': {
      target: '.failed',
      actions: { type: 'failWith', params: ({ event }) => ({ code: 'cancelled', reason: `cancelled by ${event.payload.requestedBy.id}: ${event.payload.reason}` }) },
    },
  },
  states: {
    thinking: {
      entry: [
        { type: 'requestEffect', params: ({ context }) => ({ kind: 'model.call', agent: context.agent, step: context.iterations, transcript: context.transcript, input: context.input }) },
        assign({ iterations: ({ context }) => context.iterations + 1 }),
      ],
      on: {
        'model.responded': [
          // A valid answer ends the run even when this call used up a budget: that cost is spent already.
          { guard: and(['currentStep', 'isAnswer']), actions: ['recordModelUsage', 'recordAnswer'], target: 'done' },
          { guard: and(['currentStep', 'budgetReachedWithThisCall']), actions: ['recordModelUsage', { type: 'failOnBudget', params: { beforeModelCall: false } }], target: 'failed' },
          { guard: and(['currentStep', 'needsApproval']), actions: ['recordModelUsage', 'recordToolCalls'], target: 'awaitingHuman.toolApproval' },
          { guard: and(['currentStep', 'isToolCalls']), actions: ['recordModelUsage', 'recordToolCalls'], target: 'acting' },
          { guard: and(['currentStep', 'invalidWithRetriesLeft']), actions: ['recordModelUsage', 'recordInvalidAnswer'], target: 'observing' },
          { guard: 'currentStep', actions: ['recordModelUsage', 'recordInvalidAnswer'], target: 'awaitingHuman.answerReview' },
        ],
        'effect.failed': {
          target: 'failed',
          actions: { type: 'failWith', params: ({ event }) => ({ code: 'model.failed', reason: `model call ${event.payload.effectId} failed for good: ${event.payload.reason}` }) },
        },
      },
    },
    acting: {
      entry: enqueueActions(({ context, enqueue }) => {
        for (const call of context.pendingCalls) {
          enqueue({ type: 'requestEffect', params: { kind: 'tool.call', agent: context.agent, callId: call.callId, tool: call.tool, input: call.input } });
        }
      }),
      on: {
        'tool.responded': [
          { guard: 'isLastResult', actions: 'recordToolResult', target: 'observing' },
          { guard: 'isPendingResult', actions: 'recordToolResult' },
        ],
        'effect.failed': {
          target: 'failed',
          actions: { type: 'failWith', params: ({ event }) => ({ code: 'tool.failed', reason: `tool call ${event.payload.effectId} failed for good: ${event.payload.reason}` }) },
        },
      },
    },
    observing: {
      entry: 'observeResults',
      always: [{ guard: 'budgetReachedBeforeCall', actions: { type: 'failOnBudget', params: { beforeModelCall: true } }, target: 'failed' }, { target: 'thinking' }],
    },
    awaitingHuman: {
      tags: ['approval'],
      initial: 'toolApproval',
      states: {
        toolApproval: {
          entry: {
            type: 'requestEffect',
            params: ({ context }) => ({
              kind: 'approval.request',
              gateId: reactLoopGateId(context, 'tool-approval'),
              gate: 'tool-approval',
              proposed: { agent: context.agent, calls: context.pendingCalls },
              reason: `Agent ${context.agent} wants to call ${context.pendingCalls
                .filter((call) => call.requiresApproval)
                .map((call) => call.tool)
                .join(', ')}, which require a human's approval. Approve to run the calls; reject (with a comment) to refuse them and let the agent continue without.`,
              allowedRoles: REACT_LOOP_APPROVER_ROLES,
            }),
          },
          on: {
            'approval.decided': [
              { guard: { type: 'decided', params: { gate: 'tool-approval', decision: 'approved' } }, target: '#react-loop.acting' },
              { guard: { type: 'decided', params: { gate: 'tool-approval', decision: 'rejected' } }, actions: 'refuseToolCalls', target: '#react-loop.observing' },
              { guard: { type: 'decided', params: { gate: 'tool-approval', decision: 'edited' } }, actions: 'refuseToolCalls', target: '#react-loop.observing' },
            ],
          },
        },
        answerReview: {
          entry: {
            type: 'requestEffect',
            params: ({ context }) => ({
              kind: 'approval.request',
              gateId: reactLoopGateId(context, 'answer-review'),
              gate: 'answer-review',
              proposed: context.lastInvalidAnswer,
              reason: `Agent ${context.agent} gave ${context.invalidAnswers} invalid answer(s) in a row (${context.lastInvalidAnswer?.issues.join('; ') ?? ''}). Edit with the correct answer (JSON), approve to let the model try again, or reject to fail the run.`,
              allowedRoles: REACT_LOOP_APPROVER_ROLES,
            }),
          },
          on: {
            'approval.decided': [
              {
                guard: { type: 'decided', params: { gate: 'answer-review', decision: 'edited' } },
                actions: assign({ answer: ({ event }) => (event.type === 'approval.decided' ? editedAnswer(event.payload.editedText) : null) }),
                target: '#react-loop.done',
              },
              {
                guard: { type: 'decided', params: { gate: 'answer-review', decision: 'approved' } },
                actions: assign({ invalidAnswers: 0 }),
                target: '#react-loop.observing',
              },
              {
                guard: { type: 'decided', params: { gate: 'answer-review', decision: 'rejected' } },
                actions: {
                  type: 'failWith',
                  params: ({ event }) => ({
                    code: 'human.rejected',
                    reason: `a human rejected the run after invalid answers${event.type === 'approval.decided' && event.payload.comment !== null ? `: ${event.payload.comment}` : ''}`,
                  }),
                },
                target: '#react-loop.failed',
              },
            ],
          },
        },
      },
    },
    done: {
      type: 'final',
      entry: { type: 'requestEffect', params: ({ context }) => resultEffect(context, { status: 'done', answer: context.answer }) },
    },
    failed: {
      type: 'final',
      entry: {
        type: 'requestEffect',
        params: ({ context }) => resultEffect(context, { status: 'failed', code: context.failure?.code ?? 'unknown', reason: context.failure?.reason ?? 'unknown' }),
      },
    },
  },
});
