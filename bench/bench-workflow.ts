import { assign, setup } from 'xstate';
import { z } from 'zod';
import { defineWorkflow } from '@troupe/actor-runtime';
import type { Effect, Envelope } from '@troupe/contracts';

/** Start event of the bench workflow. */
export const BENCH_OPENED = 'bench.opened';
/** Every later event of the bench workflow: one transition, one effect. */
export const BENCH_BUMPED = 'bench.bumped';
/** The agent the bench workflow's effects are addressed to (nobody consumes them). */
export const BENCH_AGENT = 'bench-sink';

/**
 * The counter machine. With `toleratesMissingInput` false its context factory reads `input.owner`
 * unguarded, as the email-triage machine reads its input: XState's pure `transition()` builds a
 * throwaway actor whose eager initial snapshot calls the factory without input, so such a factory
 * throws (and XState catches) once per step. With it true the factory copes with missing input; the
 * memory bench times both to show what that costs.
 */
function createCounterMachine(toleratesMissingInput: boolean) {
  return setup({
    types: {
      context: {} as { count: number; owner: string },
      events: {} as { type: typeof BENCH_BUMPED; payload: { by: number } },
      input: {} as { owner: string },
    },
    actions: { requestEffect: (_, _effect: Effect) => undefined },
  }).createMachine({
    id: 'bench-counter',
    initial: 'counting',
    context: ({ input }) => ({ count: 0, owner: toleratesMissingInput ? ((input as { owner: string } | undefined)?.owner ?? '') : input.owner }),
    states: {
      counting: {
        entry: { type: 'requestEffect', params: ({ context }) => ({ kind: 'agent.task', agent: BENCH_AGENT, task: 'count', input: { owner: context.owner, count: 0 } }) },
        on: {
          [BENCH_BUMPED]: {
            actions: [
              assign({ count: ({ context, event }) => context.count + event.payload.by }),
              { type: 'requestEffect', params: ({ context }) => ({ kind: 'agent.task', agent: BENCH_AGENT, task: 'count', input: { owner: context.owner, count: context.count } }) },
            ],
          },
        },
      },
    },
  });
}

function createBenchWorkflow(toleratesMissingInput: boolean) {
  return defineWorkflow({
    workflowType: 'bench-counter',
    machine: createCounterMachine(toleratesMissingInput),
    machineVersion: '1',
    startEventType: BENCH_OPENED,
    events: {
      [BENCH_OPENED]: z.object({ owner: z.string() }),
      [BENCH_BUMPED]: z.object({ by: z.number().int() }),
    },
    input: ({ payload }) => ({ owner: (payload as { owner: string }).owner }),
    tags: (snapshot) => ({ count: String(snapshot.context.count) }),
  });
}

/**
 * The bench workflow: a counter. Opening it and each bump emit exactly one effect (an agent task
 * carrying the count), so one step = one transition + one effect, plus the change-feed message the
 * runtime adds to every applied step. Its context factory copes with missing input, as a machine
 * hosted by Troupe should (the profile showed the throw of one that does not at 5 % of a step's CPU).
 */
export const benchWorkflow = createBenchWorkflow(true);

/**
 * The same workflow with a context factory that reads `input.owner` unguarded, as the email-triage
 * machine's does, so it throws (and XState catches) on every step: the memory child times both.
 */
export const benchWorkflowReadingInput = createBenchWorkflow(false);

const OCCURRED_AT = '2026-01-01T00:00:00.000Z';

/** The start event of workflow `workflowId`. */
export function openedEvent(workflowId: string): Envelope {
  return {
    id: `${workflowId}-open`,
    type: BENCH_OPENED,
    workflowId,
    correlationId: workflowId,
    causationId: null,
    occurredAt: OCCURRED_AT,
    source: 'bench',
    payload: { owner: `owner-of-${workflowId}` },
  };
}

/** The `n`-th bump of workflow `workflowId` (ids unique per workflow and n). */
export function bumpedEvent(workflowId: string, n: number): Envelope {
  return {
    id: `${workflowId}-bump-${n}`,
    type: BENCH_BUMPED,
    workflowId,
    correlationId: workflowId,
    causationId: null,
    occurredAt: OCCURRED_AT,
    source: 'bench',
    payload: { by: 1 },
  };
}
