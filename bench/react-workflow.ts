import 'reflect-metadata';
import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { JetStreamClient } from 'nats';
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { defineWorkflow } from '@troupe/actor-runtime';
import { JetStreamContext, runEffect } from '@troupe/bus';
import { AgentTaskRequested, agentTaskSubject, parseOrThrow, type Effect, type Envelope } from '@troupe/contracts';
import { mockModel, mockTool, reactQuestion, type ModelTurn, type ReasonInput } from './react-workload';
import { BENCH_JETSTREAM } from './troupe-host';

/** Start event of the ReAct bench workflow. */
export const REACT_STARTED = 'bench.react_started';
/** Result of a `reason` task: the model's turn. */
export const REACT_REASONED = 'bench.react_reasoned';
/** Result of an `act` task: the tool's observation. */
export const REACT_ACTED = 'bench.react_acted';
/** The agent that runs the mock model and the mock tool. */
export const REACT_AGENT = 'bench-react';

const ModelTurnSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('tool'), tool: z.literal('lookup'), query: z.string() }),
  z.object({ kind: z.literal('answer'), text: z.string() }),
]);
const ReasonInputSchema = z.object({ question: z.string(), observations: z.array(z.string()), toolRounds: z.number().int().nonnegative() });
const ActInputSchema = z.object({ tool: z.literal('lookup'), query: z.string() });

/**
 * The ReAct loop as a pure machine: `reasoning` asks the agent for a model turn (effect `reason`);
 * a tool call goes to `acting`, which asks the agent to run the tool (effect `act`) and returns to
 * `reasoning` with the observation; an answer ends in `answered` (final).
 */
const reactMachine = setup({
  types: {
    context: {} as { question: string; toolRounds: number; observations: string[]; query: string | null; answer: string | null },
    events: {} as { type: typeof REACT_REASONED; payload: { turn: ModelTurn } } | { type: typeof REACT_ACTED; payload: { observation: string } },
    input: {} as { question: string; toolRounds: number },
  },
  actions: { requestEffect: (_, _effect: Effect) => undefined },
  guards: { wantsTool: ({ event }) => event.type === REACT_REASONED && event.payload.turn.kind === 'tool' },
}).createMachine({
  id: 'bench-react',
  initial: 'reasoning',
  // Copes with missing input: XState's pure transition() calls the factory without input once per step.
  context: ({ input }) => ({ question: input?.question ?? '', toolRounds: input?.toolRounds ?? 0, observations: [], query: null, answer: null }),
  states: {
    reasoning: {
      entry: {
        type: 'requestEffect',
        params: ({ context }) => ({
          kind: 'agent.task',
          agent: REACT_AGENT,
          task: 'reason',
          input: { question: context.question, observations: context.observations, toolRounds: context.toolRounds } satisfies ReasonInput,
        }),
      },
      on: {
        [REACT_REASONED]: [
          { guard: 'wantsTool', target: 'acting', actions: assign({ query: ({ event }) => (event.type === REACT_REASONED && event.payload.turn.kind === 'tool' ? event.payload.turn.query : null) }) },
          { target: 'answered', actions: assign({ answer: ({ event }) => (event.type === REACT_REASONED && event.payload.turn.kind === 'answer' ? event.payload.turn.text : null) }) },
        ],
      },
    },
    acting: {
      entry: { type: 'requestEffect', params: ({ context }) => ({ kind: 'agent.task', agent: REACT_AGENT, task: 'act', input: { tool: 'lookup', query: context.query ?? '' } }) },
      on: {
        [REACT_ACTED]: {
          target: 'reasoning',
          actions: assign({ observations: ({ context, event }) => (event.type === REACT_ACTED ? [...context.observations, event.payload.observation] : context.observations), query: null }),
        },
      },
    },
    answered: { type: 'final' },
  },
});

/** The ReAct bench workflow (see react-workload.ts for the model, the tool and the step count). */
export const reactWorkflow = defineWorkflow({
  workflowType: 'bench-react',
  machine: reactMachine,
  machineVersion: '1',
  startEventType: REACT_STARTED,
  events: {
    [REACT_STARTED]: z.object({ question: z.string(), toolRounds: z.number().int().nonnegative() }),
    [REACT_REASONED]: z.object({ turn: ModelTurnSchema }),
    [REACT_ACTED]: z.object({ observation: z.string() }),
  },
  input: ({ payload }) => payload as { question: string; toolRounds: number },
  tags: (snapshot) => ({ observations: String(snapshot.context.observations.length) }),
});

/** The start event of ReAct workflow `workflowId` (number `index`). */
export function reactStartedEvent(workflowId: string, index: number, toolRounds: number): Envelope {
  return {
    id: `${workflowId}-start`,
    type: REACT_STARTED,
    workflowId,
    correlationId: workflowId,
    causationId: null,
    occurredAt: '2026-01-01T00:00:00.000Z',
    source: 'bench',
    payload: { question: reactQuestion(index), toolRounds },
  };
}

/**
 * The bench's ReAct agent, as a Troupe agent runs: it consumes its work queue (`troupe.agent.bench-react.task`),
 * parses the task at the edge, runs the mock model (`reason`) or the mock tool (`act`) and publishes
 * the result into the workflow with `runEffect` (event id `<effectId>:result`).
 */
@Controller()
export class ReactAgentController {
  /** Model and tool calls made, to check the step count. */
  static calls = 0;

  constructor(@Inject(BENCH_JETSTREAM) private readonly js: JetStreamClient) {}

  @EventPattern(agentTaskSubject(REACT_AGENT))
  async handle(@Payload() envelope: Envelope, @Ctx() context: JetStreamContext): Promise<void> {
    const task = parseOrThrow(AgentTaskRequested, envelope.payload, 'agent task');
    await runEffect(this.js, { envelope, context, effectId: task.effectId, kind: 'agent.task', source: 'bench/react-agent' }, async () => {
      ReactAgentController.calls += 1;
      if (task.task === 'reason') return { type: REACT_REASONED, payload: { turn: mockModel(parseOrThrow(ReasonInputSchema, task.input, 'reason input')) } };
      return { type: REACT_ACTED, payload: { observation: mockTool(parseOrThrow(ActInputSchema, task.input, 'act input').query) } };
    });
  }
}
