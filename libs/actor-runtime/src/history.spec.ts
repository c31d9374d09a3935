import { describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { TIMER_FIRED, timerFiredEventId, type Envelope } from '@troupe/contracts';
import type { OutboxMessage } from '@troupe/persistence';
import {
  ActorRuntime,
  ReplayError,
  UnknownMachineVersionError,
  canonicalJson,
  defineWorkflow,
  migrateWorkflows,
  planFork,
  replayJournal,
  writeFork,
  type WorkflowDefinition,
} from '@troupe/actor-runtime';
import { InMemoryJournal, InMemorySnapshotStore } from './history.fakes';
import { counterEvent, counterV1, counterV1ToV2, counterV2 } from './history.fixtures';

const NOW = new Date('2026-01-01T00:00:00.000Z');

function host(definitions: WorkflowDefinition[] = [counterV1]) {
  const store = new InMemorySnapshotStore();
  const journal = new InMemoryJournal();
  const published: OutboxMessage[] = [];
  const runtime = new ActorRuntime({ definitions, store, journal, publish: async (m) => void published.push(m), now: () => NOW });
  return { store, journal, published, runtime };
}

async function runCounter(runtime: ActorRuntime, workflowId: string, steps: Array<[string, unknown]>): Promise<void> {
  for (const [type, payload] of steps) await runtime.handle(counterEvent(workflowId, type, payload));
}

describe('replayJournal', () => {
  it('rebuilds every step from the journal alone and matches the journaled digest and the stored snapshot', async () => {
    const { runtime, store, journal } = host();
    await runCounter(runtime, 'c-1', [
      ['counter.opened', { owner: 'ann' }],
      ['counter.bumped', { by: 2 }],
      ['counter.bumped', { by: 3 }],
      ['counter.paused', {}],
      ['counter.bumped', { by: 100 }], // not accepted while paused: journaled as rejected
      ['counter.resumed', {}],
      ['counter.closed', {}],
    ]);
    const entries = await journal.read('c-1');
    expect(entries.map((e) => e.rejection === null)).toEqual([true, true, true, true, false, true, true]);
    for (const entry of entries) {
      const replay = replayJournal(entries, [counterV1], { step: entry.seq });
      expect(replay).toMatchObject({ step: entry.seq, stateValue: entry.stateValue, status: entry.status, matchesSnapshot: true, mismatches: [] });
      expect(replay.snapshotDigest).toBe(entry.snapshotDigest);
    }
    expect(replayJournal(entries, [counterV1], { step: 3 }).context).toEqual({ count: 5, owner: 'ann', pauseTimeoutMs: 60_000 });
    const last = replayJournal(entries, [counterV1]);
    expect(canonicalJson(last.snapshot)).toBe(canonicalJson(store.records.get('c-1')!.snapshot));
  });

  it('keeps the timers the runtime keeps, and replays a timer firing', async () => {
    const { runtime, store, journal, published } = host();
    await runCounter(runtime, 'c-t', [
      ['counter.opened', { owner: 'ann', pauseTimeoutMs: 5_000 }],
      ['counter.paused', {}],
    ]);
    const record = store.records.get('c-t')!;
    expect(record.timers).toHaveLength(1);
    expect(replayJournal(await journal.read('c-t'), [counterV1]).timers).toEqual(record.timers);

    const scheduled = published.find((m) => m.envelope.type === 'timer.scheduled')!;
    const { workflowId: _w, ...fired } = scheduled.envelope.payload as { workflowId: string; timerId: string };
    await runtime.handle({ ...counterEvent('c-t', TIMER_FIRED, fired), id: timerFiredEventId(fired.timerId) });
    expect(store.records.get('c-t')!.stateValue).toBe('closed');
    const replay = replayJournal(await journal.read('c-t'), [counterV1]);
    expect(replay).toMatchObject({ stateValue: 'closed', status: 'done', timers: [], matchesSnapshot: true });
  });

  it('fails the determinism check of a machine that reads randomness', async () => {
    const noisyMachine = setup({ types: { context: {} as { roll: number }, events: {} as { type: 'dice.rolled' } } }).createMachine({
      id: 'noisy',
      context: { roll: 0 },
      on: { 'dice.rolled': { actions: assign({ roll: () => Math.random() }) } },
    });
    const noisy = defineWorkflow({
      workflowType: 'noisy',
      machine: noisyMachine,
      machineVersion: '1',
      startEventType: 'dice.requested',
      events: { 'dice.requested': z.object({}), 'dice.rolled': z.object({}) },
      input: () => ({}),
      tags: () => ({}),
    });
    const store = new InMemorySnapshotStore();
    const journal = new InMemoryJournal();
    const runtime = new ActorRuntime({ definitions: [noisy], store, journal, publish: async () => undefined });
    await runtime.handle(counterEvent('n-1', 'dice.requested', {}));
    await runtime.handle(counterEvent('n-1', 'dice.rolled', {}));
    const replay = replayJournal(await journal.read('n-1'), [noisy]);
    expect(replay.matchesSnapshot).toBe(false);
    expect(replay.mismatches).toEqual([expect.objectContaining({ seq: 2, field: 'snapshotDigest' })]);
  });

  it('refuses a step outside the journal, a journal with a gap and an unknown definition', async () => {
    const { runtime, journal } = host();
    await runCounter(runtime, 'c-2', [
      ['counter.opened', { owner: 'ann' }],
      ['counter.bumped', { by: 1 }],
      ['counter.bumped', { by: 1 }],
    ]);
    const entries = await journal.read('c-2');
    expect(() => replayJournal(entries, [counterV1], { step: 4 })).toThrow(expect.objectContaining({ code: 'STEP_OUT_OF_RANGE' }));
    expect(() => replayJournal(entries, [counterV1], { step: 0 })).toThrow(ReplayError);
    expect(() => replayJournal([entries[0], entries[2]], [counterV1])).toThrow(expect.objectContaining({ code: 'JOURNAL_GAP' }));
    expect(() => replayJournal(entries, [counterV2])).toThrow(expect.objectContaining({ code: 'UNKNOWN_DEFINITION' }));
    expect(() => replayJournal([], [counterV1])).toThrow(expect.objectContaining({ code: 'EMPTY_JOURNAL' }));
  });
});

describe('planFork and writeFork', () => {
  it('starts a new workflow from step N that diverges by its next event and leaves the original untouched', async () => {
    const { runtime, store, journal } = host();
    await runCounter(runtime, 'src', [
      ['counter.opened', { owner: 'ann' }],
      ['counter.bumped', { by: 2 }],
      ['counter.bumped', { by: 3 }],
      ['counter.closed', {}],
    ]);
    const originalRecord = structuredClone(store.records.get('src'));
    const originalJournal = structuredClone(await journal.read('src'));

    const plan = planFork({ sourceEntries: originalJournal, step: 2, forkWorkflowId: 'src-fork', definitions: [counterV1], at: NOW.toISOString() });
    expect(plan.record).toMatchObject({ workflowId: 'src-fork', version: 2, stateValue: 'open', tags: { count: '2' }, outbox: [] });
    await writeFork(plan, { store, journal });
    // What if the second bump had been 40 instead of 3?
    await runtime.handle(counterEvent('src-fork', 'counter.bumped', { by: 40 }));

    const fork = store.records.get('src-fork')!;
    expect(fork).toMatchObject({ version: 3, stateValue: 'open', tags: { count: '42' } });
    const forkJournal = await journal.read('src-fork');
    expect(forkJournal.map((e) => [e.seq, e.eventType, e.forkedFrom?.workflowId ?? null])).toEqual([
      [1, 'counter.opened', 'src'],
      [2, 'counter.bumped', 'src'],
      [3, 'counter.bumped', null],
    ]);
    expect(replayJournal(forkJournal, [counterV1])).toMatchObject({ matchesSnapshot: true, context: { count: 42 } });
    expect(store.records.get('src')).toEqual(originalRecord);
    expect(await journal.read('src')).toEqual(originalJournal);
    await expect(writeFork(plan, { store, journal })).rejects.toMatchObject({ code: 'VERSION_CONFLICT' });
  });

  it("schedules the source's active timers again under the fork's id", async () => {
    const { runtime, journal } = host();
    await runCounter(runtime, 'paused-src', [
      ['counter.opened', { owner: 'ann', pauseTimeoutMs: 5_000 }],
      ['counter.paused', {}],
      ['counter.resumed', {}],
    ]);
    const plan = planFork({ sourceEntries: await journal.read('paused-src'), step: 2, forkWorkflowId: 'paused-fork', definitions: [counterV1], at: NOW.toISOString() });
    expect(plan.record.timers).toEqual([expect.objectContaining({ timerId: 'paused-fork:2:timer:xstate.after.pauseTimeout.counter.paused', dueAt: '2026-01-01T00:00:05.000Z' })]);
    expect(plan.record.outbox.map((m) => [m.envelope.type, m.envelope.workflowId])).toEqual([['timer.scheduled', 'paused-fork']]);
  });
});

describe('versioned definitions', () => {
  it('starts new instances on the latest version and keeps running ones on the version they started on', async () => {
    const v1Only = host([counterV1]);
    await runCounter(v1Only.runtime, 'old', [['counter.opened', { owner: 'ann' }]]);
    const runtime = new ActorRuntime({ definitions: [counterV2, counterV1], store: v1Only.store, journal: v1Only.journal, publish: async () => undefined });
    await runtime.handle(counterEvent('new', 'counter.opened', { owner: 'bob' }));
    await runtime.handle(counterEvent('old', 'counter.paused', {}));
    expect(v1Only.store.records.get('new')).toMatchObject({ machineVersion: '2', stateValue: 'counting' });
    expect(v1Only.store.records.get('old')).toMatchObject({ machineVersion: '1', stateValue: 'paused' });
    expect((await v1Only.journal.read('new'))[0].machineVersion).toBe('2');
  });

  it('refuses to apply an event to a record whose machine version it does not know, as retryable', async () => {
    const v2Host = host([counterV2]);
    await runCounter(v2Host.runtime, 'c-v2', [['counter.opened', { owner: 'ann' }]]);
    const v1Only = new ActorRuntime({ definitions: [counterV1], store: v2Host.store, journal: v2Host.journal, publish: async () => undefined });
    const error = await v1Only.handle(counterEvent('c-v2', 'counter.bumped', { by: 1 })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UnknownMachineVersionError);
    expect(error).toMatchObject({ retryable: true });
  });

  it('refuses two definitions with the same <workflowType>@<machineVersion>', () => {
    expect(() => new ActorRuntime({ definitions: [counterV1, counterV1], store: new InMemorySnapshotStore(), journal: new InMemoryJournal(), publish: async () => undefined })).toThrow(
      expect.objectContaining({ code: 'DUPLICATE_DEFINITION' }),
    );
  });
});

describe('migrateWorkflows', () => {
  it('moves instances in mapped states, refuses the rest, journals each move, and replays across it', async () => {
    const { runtime, store, journal } = host([counterV1]);
    await runCounter(runtime, 'm-open', [['counter.opened', { owner: 'ann' }], ['counter.bumped', { by: 4 }]]);
    await runCounter(runtime, 'm-paused', [['counter.opened', { owner: 'bob' }], ['counter.paused', {}]]);
    await runCounter(runtime, 'm-done', [['counter.opened', { owner: 'cy' }], ['counter.closed', {}]]);
    const options = { store, journal, migration: counterV1ToV2, definitions: [counterV1, counterV2], now: () => NOW };

    const dry = await migrateWorkflows({ ...options, dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, moved: [{ workflowId: 'm-open' }], refused: [{ workflowId: 'm-paused' }] });
    expect(store.records.get('m-open')!.machineVersion).toBe('1');

    const report = await migrateWorkflows(options);
    expect(report).toMatchObject({
      migration: 'counter@1->2',
      moved: [{ workflowId: 'm-open', fromStateValue: 'open', stateValue: 'counting', version: 3 }],
      refused: [{ workflowId: 'm-paused', stateValue: 'paused', reason: expect.stringContaining('no state') }],
      conflicts: [],
      nextCursor: null,
    });
    expect(store.records.get('m-open')).toMatchObject({ machineVersion: '2', version: 3, stateValue: 'counting', tags: { count: '4', unit: 'items' } });
    expect((await journal.read('m-open')).at(-1)).toMatchObject({ seq: 3, eventType: 'workflow.migrated', machineVersion: '2' });

    const again = await migrateWorkflows(options);
    expect(again.moved).toEqual([]);
    expect(again.refused.map((r) => r.workflowId)).toEqual(['m-paused']);

    const both = new ActorRuntime({ definitions: [counterV1, counterV2], store, journal, publish: async () => undefined, now: () => NOW });
    await both.handle(counterEvent('m-open', 'counter.bumped', { by: 1 }));
    await both.handle(counterEvent('m-open', 'counter.closed', {}));
    await both.handle(counterEvent('m-paused', 'counter.closed', {}));
    expect(store.records.get('m-open')).toMatchObject({ machineVersion: '2', stateValue: 'closed', tags: { count: '5' } });
    expect(store.records.get('m-paused')).toMatchObject({ machineVersion: '1', stateValue: 'closed' });
    const replay = replayJournal(await journal.read('m-open'), [counterV1, counterV2]);
    expect(replay).toMatchObject({ machineVersion: '2', stateValue: 'closed', matchesSnapshot: true, context: { count: 5, unit: 'items' } });
  });

  it('reports a lost version race as a conflict and leaves that instance alone', async () => {
    const { runtime, store, journal } = host([counterV1]);
    await runCounter(runtime, 'race', [['counter.opened', { owner: 'ann' }]]);
    const racing = {
      ...store,
      load: store.load.bind(store),
      list: store.list.bind(store),
      save: async (record: Parameters<typeof store.save>[0], expected: number) => {
        await runtime.handle(counterEvent('race', 'counter.bumped', { by: 1 }) as Envelope);
        return store.save(record, expected);
      },
    };
    const report = await migrateWorkflows({ store: racing, journal, migration: counterV1ToV2, definitions: [counterV2], now: () => NOW });
    expect(report.conflicts.map((c) => c.workflowId)).toEqual(['race']);
    expect(store.records.get('race')).toMatchObject({ machineVersion: '1', version: 2 });
  });
});
