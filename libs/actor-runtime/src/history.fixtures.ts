import { assign, setup } from 'xstate';
import { z } from 'zod';
import type { Envelope } from '@troupe/contracts';
import type { WorkflowMigration } from './migration';
import { defineWorkflow } from './workflow-definition';

/**
 * Fixtures of the history specs: a counter workflow in two versions and a migration between them.
 * v1: `open` (bumps count) ⇄ `paused` (closes itself after `pauseTimeoutMs`) → `closed`.
 * v2: `open` is renamed `counting`, the context gains a `unit`, and there is no `paused`.
 */
type CounterEvent =
  | { type: 'counter.bumped'; payload: { by: number } }
  | { type: 'counter.paused'; payload: Record<string, never> }
  | { type: 'counter.resumed'; payload: Record<string, never> }
  | { type: 'counter.closed'; payload: Record<string, never> };

const counterV1Machine = setup({
  types: { context: {} as { count: number; owner: string; pauseTimeoutMs: number }, events: {} as CounterEvent, input: {} as { owner: string; pauseTimeoutMs: number } },
  delays: { pauseTimeout: ({ context }) => context.pauseTimeoutMs },
}).createMachine({
  id: 'counter',
  initial: 'open',
  context: ({ input }) => ({ count: 0, owner: input.owner, pauseTimeoutMs: input.pauseTimeoutMs }),
  states: {
    open: {
      on: {
        'counter.bumped': { actions: assign({ count: ({ context, event }) => context.count + event.payload.by }) },
        'counter.paused': 'paused',
        'counter.closed': 'closed',
      },
    },
    paused: { after: { pauseTimeout: 'closed' }, on: { 'counter.resumed': 'open', 'counter.closed': 'closed' } },
    closed: { type: 'final' },
  },
});

const counterV2Machine = setup({
  types: { context: {} as { count: number; owner: string; unit: string }, events: {} as CounterEvent, input: {} as { owner: string } },
}).createMachine({
  id: 'counter',
  initial: 'counting',
  context: ({ input }) => ({ count: 0, owner: input.owner, unit: 'items' }),
  states: {
    counting: {
      on: {
        'counter.bumped': { actions: assign({ count: ({ context, event }) => context.count + event.payload.by }) },
        'counter.closed': 'closed',
      },
    },
    closed: { type: 'final' },
  },
});

const counterEvents = {
  'counter.opened': z.object({ owner: z.string(), pauseTimeoutMs: z.number().int().positive().default(60_000) }),
  'counter.bumped': z.object({ by: z.number().int() }),
  'counter.paused': z.object({}),
  'counter.resumed': z.object({}),
  'counter.closed': z.object({}),
};

/** counter@1. */
export const counterV1 = defineWorkflow({
  workflowType: 'counter',
  machine: counterV1Machine,
  machineVersion: '1',
  startEventType: 'counter.opened',
  events: counterEvents,
  input: ({ payload }) => payload as { owner: string; pauseTimeoutMs: number },
  tags: (snapshot) => ({ count: String(snapshot.context.count) }),
});

/** counter@2. */
export const counterV2 = defineWorkflow({
  workflowType: 'counter',
  machine: counterV2Machine,
  machineVersion: '2',
  startEventType: 'counter.opened',
  events: counterEvents,
  input: ({ payload }) => ({ owner: (payload as { owner: string }).owner }),
  tags: (snapshot) => ({ count: String(snapshot.context.count), unit: snapshot.context.unit }),
});

/** counter 1 → 2: `open` becomes `counting`, the context gains `unit: 'items'`; `paused` is refused. */
export const counterV1ToV2: WorkflowMigration = {
  workflowType: 'counter',
  fromVersion: '1',
  toVersion: '2',
  mapState: (stateValue) => (stateValue === 'open' ? { stateValue: 'counting' } : { refuse: `counter@2 has no state ${JSON.stringify(stateValue)}` }),
  mapContext: (context) => {
    const { pauseTimeoutMs: _dropped, ...rest } = context as { count: number; owner: string; pauseTimeoutMs: number };
    return { ...rest, unit: 'items' };
  },
};

let sequence = 0;

/** An envelope of `type` into `workflowId` with a fresh id. */
export function counterEvent(workflowId: string, type: string, payload: unknown): Envelope {
  sequence += 1;
  return { id: `${workflowId}:e${sequence}`, type, workflowId, correlationId: workflowId, causationId: null, occurredAt: '2026-01-01T00:00:00.000Z', source: 'test', payload };
}
