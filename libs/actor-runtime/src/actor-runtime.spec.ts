import { describe, expect, it } from 'vitest';
import { assign, enqueueActions, setup } from 'xstate';
import { z } from 'zod';
import { SchemaValidationError, partitionOf, type Effect, type Envelope, type JournalEntry } from '@troupe/contracts';
import { VersionConflictError, type Journal, type OutboxMessage, type SnapshotStore, type WorkflowRecord } from '@troupe/persistence';
import { ActorRuntime, UnknownWorkflowError, defineWorkflow } from '@troupe/actor-runtime';
import { compensationsToRun, recordCompensation } from '@troupe/statecharts';

/** Test double: an in-memory snapshot store with the same version precondition as the real ones. */
class InMemorySnapshotStore implements SnapshotStore {
  readonly records = new Map<string, WorkflowRecord>();
  saves = 0;
  async load(workflowId: string) {
    const record = this.records.get(workflowId);
    return record === undefined ? null : structuredClone(record);
  }
  async save(record: WorkflowRecord, expectedVersion: number) {
    const stored = this.records.get(record.workflowId);
    if ((stored?.version ?? 0) !== expectedVersion || (expectedVersion === 0 && stored !== undefined)) {
      throw new VersionConflictError(record.workflowId, expectedVersion, stored?.version ?? null);
    }
    this.saves += 1;
    this.records.set(record.workflowId, structuredClone(record));
  }
  async list() {
    return { items: [...this.records.values()], nextCursor: null };
  }
}

/** Test double: an in-memory journal, idempotent on (workflowId, seq) like the real ones. */
class InMemoryJournal implements Journal {
  readonly entries: JournalEntry[] = [];
  async append(entry: JournalEntry) {
    if (!this.entries.some((e) => e.workflowId === entry.workflowId && e.seq === entry.seq)) this.entries.push(entry);
  }
  async read(workflowId: string) {
    return this.entries.filter((e) => e.workflowId === workflowId).sort((a, b) => a.seq - b.seq);
  }
}

const counterMachine = setup({
  types: { context: {} as { count: number; owner: string }, events: {} as { type: 'counter.bumped'; payload: { by: number } } | { type: 'counter.closed'; payload: Record<string, never> }, input: {} as { owner: string } },
  actions: { requestEffect: (_, _effect: Effect) => undefined },
}).createMachine({
  id: 'counter',
  initial: 'open',
  context: ({ input }) => ({ count: 0, owner: input.owner }),
  states: {
    open: {
      entry: { type: 'requestEffect', params: ({ context }) => ({ kind: 'agent.task', agent: 'greeter', task: 'greet', input: { owner: context.owner } }) },
      on: {
        'counter.bumped': {
          actions: [
            assign({ count: ({ context, event }) => context.count + event.payload.by }),
            { type: 'requestEffect', params: ({ context }) => ({ kind: 'agent.task', agent: 'auditor', task: 'audit', input: { count: context.count } }) },
          ],
        },
        'counter.closed': 'closed',
      },
    },
    closed: { type: 'final' },
  },
});

const counterWorkflow = defineWorkflow({
  workflowType: 'counter',
  machine: counterMachine,
  machineVersion: '1',
  startEventType: 'counter.opened',
  events: {
    'counter.opened': z.object({ owner: z.string() }),
    'counter.bumped': z.object({ by: z.number().int() }),
    'counter.closed': z.object({}),
  },
  input: ({ payload }) => ({ owner: (payload as { owner: string }).owner }),
  tags: (snapshot) => ({ count: String(snapshot.context.count) }),
});

let sequence = 0;
function event(type: string, payload: unknown, id = `e${++sequence}`): Envelope {
  return { id, type, workflowId: 'wf-1', correlationId: 'c-1', causationId: null, occurredAt: '2026-01-01T00:00:00.000Z', source: 'test', payload };
}

function makeRuntime(publish?: (message: OutboxMessage) => Promise<void>) {
  const store = new InMemorySnapshotStore();
  const journal = new InMemoryJournal();
  const published: OutboxMessage[] = [];
  const runtime = new ActorRuntime({
    definitions: [counterWorkflow],
    store,
    journal,
    publish: publish ?? (async (message) => void published.push(message)),
    now: () => new Date('2026-01-01T00:00:00.000Z'),
  });
  return { runtime, store, journal, published };
}

describe('ActorRuntime', () => {
  it('starts a workflow from its start event, persists version 1 and publishes its effects with idempotency keys', async () => {
    const { runtime, store, published, journal } = makeRuntime();
    const outcome = await runtime.handle(event('counter.opened', { owner: 'ann' }));
    expect(outcome).toMatchObject({ kind: 'applied', version: 1, stateValue: 'open', effects: 1 });
    expect(published.map((m) => [m.id, m.subject])).toEqual([
      ['wf-1:1:0', 'troupe.agent.greeter.task'],
      ['wf-1:1:changed', 'troupe.changes.wf-1'],
    ]);
    expect(published[0].envelope).toMatchObject({ type: 'agent.task_requested', payload: { effectId: 'wf-1:1:0', agent: 'greeter', input: { owner: 'ann' } } });
    const record = store.records.get('wf-1')!;
    expect(record).toMatchObject({ version: 1, status: 'active', statePaths: ['open'], tags: { count: '0' } });
    expect(record.outbox.map((m) => m.id)).toEqual(['wf-1:1:0', 'wf-1:1:changed']);
    expect((await journal.read('wf-1')).map((e) => [e.seq, e.eventType, e.stateValue])).toEqual([[1, 'counter.opened', 'open']]);
  });

  it('applies a redelivered event id once and acks it as a duplicate', async () => {
    const { runtime, store } = makeRuntime();
    await runtime.handle(event('counter.opened', { owner: 'ann' }));
    const bump = event('counter.bumped', { by: 2 });
    await runtime.handle(bump);
    const again = await runtime.handle(bump);
    expect(again).toMatchObject({ kind: 'duplicate', version: 2 });
    const record = store.records.get('wf-1')!;
    expect((record.snapshot as { context: { count: number } }).context.count).toBe(2);
    expect(record.version).toBe(2);
  });

  it('re-publishes the outbox with the same ids when a crash came between persist and publish', async () => {
    let failNext = false;
    const published: OutboxMessage[] = [];
    const { runtime, store } = makeRuntime(async (message) => {
      if (failNext) throw new Error('NATS went away');
      published.push(message);
    });
    await runtime.handle(event('counter.opened', { owner: 'ann' }));
    const bump = event('counter.bumped', { by: 5 });
    failNext = true;
    await expect(runtime.handle(bump)).rejects.toThrow('NATS went away');
    expect(store.records.get('wf-1')!.outbox.map((m) => m.id)).toEqual(['wf-1:2:0', 'wf-1:2:changed']);
    failNext = false;
    // A fresh runtime (the restarted process) receives the redelivery.
    const restarted = new ActorRuntime({ definitions: [counterWorkflow], store, journal: new InMemoryJournal(), publish: async (m) => void published.push(m) });
    expect(await restarted.handle(bump)).toMatchObject({ kind: 'duplicate', version: 2 });
    expect(published.filter((m) => m.id.startsWith('wf-1:2:')).map((m) => m.id)).toEqual(['wf-1:2:0', 'wf-1:2:changed']);
    expect(restarted.counters.outboxRepublished).toBe(1);
    // The next step replaces the outbox and does not publish the old one again.
    await restarted.handle(event('counter.bumped', { by: 1 }));
    expect(published.filter((m) => m.id.startsWith('wf-1:2:'))).toHaveLength(2);
    expect(store.records.get('wf-1')!.outbox.map((m) => m.id)).toEqual(['wf-1:3:0', 'wf-1:3:changed']);
    expect(restarted.counters.outboxRepublished).toBe(1);
  });

  it('does not publish again the outbox of an actor it published before passivating it, but does after a failed publish', async () => {
    let failNext = false;
    const store = new InMemorySnapshotStore();
    const published: OutboxMessage[] = [];
    const runtime = new ActorRuntime({
      definitions: [counterWorkflow],
      store,
      journal: new InMemoryJournal(),
      publish: async (message) => {
        if (failNext) throw new Error('NATS went away');
        published.push(message);
      },
      cacheSize: 1,
    });
    const on = (workflowId: string, type: string, payload: unknown) => ({ ...event(type, payload), workflowId });
    await runtime.handle(on('a', 'counter.opened', { owner: 'ann' }));
    await runtime.handle(on('b', 'counter.opened', { owner: 'bob' })); // a leaves the cache
    expect(await runtime.handle(on('a', 'counter.bumped', { by: 1 }))).toMatchObject({ kind: 'applied', version: 2 });
    expect(runtime.counters.outboxRepublished).toBe(0);
    expect(published.filter((m) => m.id.startsWith('a:1:'))).toHaveLength(2);
    // b's step persists, then its publish fails: its record must be published when it is loaded again.
    failNext = true;
    await expect(runtime.handle(on('b', 'counter.bumped', { by: 1 }))).rejects.toThrow('NATS went away');
    failNext = false;
    await runtime.handle(on('a', 'counter.bumped', { by: 1 })); // b leaves the cache
    expect(await runtime.handle(on('b', 'counter.bumped', { by: 2 }))).toMatchObject({ kind: 'applied', version: 3 });
    expect(runtime.counters.outboxRepublished).toBe(1);
    expect(published.filter((m) => m.id.startsWith('b:2:')).map((m) => m.id)).toEqual(['b:2:0', 'b:2:changed']);
  });

  it('creates the record of a start event without reading first, and applies a redelivered start event as a duplicate', async () => {
    const { runtime, store, published } = makeRuntime();
    let loads = 0;
    const load = store.load.bind(store);
    store.load = async (workflowId: string) => {
      loads += 1;
      return load(workflowId);
    };
    const opened = event('counter.opened', { owner: 'ann' });
    await runtime.handle(opened);
    expect(loads).toBe(0);
    // A fresh runtime (a restart) gets the start event again: the create conflicts, the record is loaded.
    const restarted = new ActorRuntime({ definitions: [counterWorkflow], store, journal: new InMemoryJournal(), publish: async (m) => void published.push(m) });
    expect(await restarted.handle(opened)).toMatchObject({ kind: 'duplicate', version: 1 });
    expect(loads).toBe(1);
    expect(restarted.counters.versionConflicts).toBe(0);
    expect(store.records.get('wf-1')!.version).toBe(1);
  });

  it('rejects a payload that fails its schema without touching the snapshot', async () => {
    const { runtime, store } = makeRuntime();
    await runtime.handle(event('counter.opened', { owner: 'ann' }));
    await expect(runtime.handle(event('counter.bumped', { by: 'two' }))).rejects.toBeInstanceOf(SchemaValidationError);
    expect(store.records.get('wf-1')!.version).toBe(1);
  });

  it('refuses an event for a workflow that does not exist when it is not a start event', async () => {
    const { runtime } = makeRuntime();
    await expect(runtime.handle(event('counter.bumped', { by: 1 }))).rejects.toBeInstanceOf(UnknownWorkflowError);
  });

  it('journals an event the finished workflow no longer accepts as rejected, without a transition', async () => {
    const { runtime, journal, published } = makeRuntime();
    await runtime.handle(event('counter.opened', { owner: 'ann' }));
    await runtime.handle(event('counter.closed', {}));
    const outcome = await runtime.handle(event('counter.bumped', { by: 1 }));
    expect(outcome).toMatchObject({ kind: 'rejected', version: 3 });
    const entries = await journal.read('wf-1');
    expect(entries[2]).toMatchObject({ seq: 3, eventType: 'counter.bumped', stateValue: 'closed', status: 'done' });
    expect(entries[2].rejection).toContain('done');
    expect(published.filter((m) => m.id.startsWith('wf-1:3:'))).toEqual([]);
  });

  it('applies events of one workflow in arrival order even when they arrive together', async () => {
    const { runtime, store } = makeRuntime();
    await runtime.handle(event('counter.opened', { owner: 'ann' }));
    await Promise.all([1, 2, 3, 4, 5].map((by) => runtime.handle(event('counter.bumped', { by }))));
    expect((store.records.get('wf-1')!.snapshot as { context: { count: number } }).context.count).toBe(15);
    expect(store.records.get('wf-1')!.version).toBe(6);
    expect(runtime.counters.versionConflicts).toBe(0);
  });

  it('fails with a version conflict when another owner wrote first, and reloads on the retry', async () => {
    const { runtime, store } = makeRuntime();
    await runtime.handle(event('counter.opened', { owner: 'ann' }));
    const other = new ActorRuntime({ definitions: [counterWorkflow], store, journal: new InMemoryJournal(), publish: async () => undefined });
    await other.handle(event('counter.bumped', { by: 10 }));
    const late = event('counter.bumped', { by: 1 });
    await expect(runtime.handle(late)).rejects.toBeInstanceOf(VersionConflictError);
    expect(await runtime.handle(late)).toMatchObject({ kind: 'applied', version: 3 });
    expect((store.records.get('wf-1')!.snapshot as { context: { count: number } }).context.count).toBe(11);
  });
});

const gateMachine = setup({
  types: { context: {} as { timeoutMs: number }, events: {} as { type: 'gate.decided'; payload: Record<string, never> }, input: {} as { timeoutMs: number } },
  delays: { decisionTimeout: ({ context }) => context.timeoutMs },
}).createMachine({
  id: 'gate',
  initial: 'waiting',
  context: ({ input }) => ({ timeoutMs: input.timeoutMs }),
  states: {
    waiting: { after: { decisionTimeout: 'escalated' }, on: { 'gate.decided': 'decided' } },
    escalated: { on: { 'gate.decided': 'decided' } },
    decided: { type: 'final' },
  },
});

const gateWorkflow = defineWorkflow({
  workflowType: 'gate',
  machine: gateMachine,
  machineVersion: '1',
  startEventType: 'gate.opened',
  events: { 'gate.opened': z.object({ timeoutMs: z.number() }), 'gate.decided': z.object({}) },
  input: ({ payload }) => ({ timeoutMs: (payload as { timeoutMs: number }).timeoutMs }),
  tags: () => ({}),
});

function gateRuntime() {
  const store = new InMemorySnapshotStore();
  const journal = new InMemoryJournal();
  const published: OutboxMessage[] = [];
  const runtime = new ActorRuntime({
    definitions: [gateWorkflow],
    store,
    journal,
    publish: async (message) => void published.push(message),
    now: () => new Date('2026-01-01T00:00:00.000Z'),
  });
  return { runtime, store, journal, published };
}

function firingOf(message: OutboxMessage): Envelope {
  const scheduled = message.envelope.payload as { timerId: string; sendId: string; dueAt: string; event: { type: string } };
  return event('timer.fired', { timerId: scheduled.timerId, sendId: scheduled.sendId, dueAt: scheduled.dueAt, event: scheduled.event }, `${scheduled.timerId}:fired`);
}

describe('ActorRuntime durable timers', () => {
  it('persists a machine delay as a timer record and schedules it on the timer subject with its due time', async () => {
    const { runtime, store, published } = gateRuntime();
    await runtime.handle(event('gate.opened', { timeoutMs: 2_000 }));
    const timer = published.find((m) => m.envelope.type === 'timer.scheduled')!;
    expect(timer.subject).toMatch(/^troupe\.timer\.\d+$/);
    expect(timer.envelope.payload).toMatchObject({ workflowId: 'wf-1', dueAt: '2026-01-01T00:00:02.000Z', event: { type: 'xstate.after.decisionTimeout.gate.waiting' } });
    expect(store.records.get('wf-1')!.timers).toHaveLength(1);
  });

  it('applies a due timer once: the firing moves the workflow, a second firing is journaled as rejected', async () => {
    const { runtime, store, journal, published } = gateRuntime();
    await runtime.handle(event('gate.opened', { timeoutMs: 2_000 }));
    const firing = firingOf(published.find((m) => m.envelope.type === 'timer.scheduled')!);
    expect(await runtime.handle(firing)).toMatchObject({ kind: 'applied', stateValue: 'escalated' });
    expect(store.records.get('wf-1')!.timers).toEqual([]);
    expect(await runtime.handle({ ...firing, id: `${firing.id}:again` })).toMatchObject({ kind: 'rejected' });
    expect((await journal.read('wf-1')).map((e) => e.stateValue)).toEqual(['waiting', 'escalated', 'escalated']);
  });

  it('never fires a timer into the actor after leaving its state cancelled it', async () => {
    const { runtime, store, published } = gateRuntime();
    await runtime.handle(event('gate.opened', { timeoutMs: 2_000 }));
    const firing = firingOf(published.find((m) => m.envelope.type === 'timer.scheduled')!);
    await runtime.handle(event('gate.decided', {}));
    expect(store.records.get('wf-1')!.timers).toEqual([]);
    const outcome = await runtime.handle(firing);
    expect(outcome).toMatchObject({ kind: 'rejected' });
    expect(store.records.get('wf-1')!.stateValue).toBe('decided');
  });

  it('drops the cached actors of a partition it lost, and only those', async () => {
    const { runtime } = gateRuntime();
    const ids = Array.from({ length: 40 }, (_, i) => `wf-${i}`);
    for (const id of ids) await runtime.handle({ ...event('gate.opened', { timeoutMs: 10 }), workflowId: id, id: `${id}:open` });
    const inPartition3 = ids.filter((id) => partitionOf(id, 16) === 3).length;
    expect(inPartition3).toBeGreaterThan(0);
    expect(runtime.evictPartition(3, 16)).toBe(inPartition3);
    expect(runtime.cachedActors).toBe(ids.length - inPartition3);
  });

  it('rehydrates an actor evicted from the bounded cache and still applies its timer', async () => {
    const store = new InMemorySnapshotStore();
    const published: OutboxMessage[] = [];
    const runtime = new ActorRuntime({ definitions: [gateWorkflow], store, journal: new InMemoryJournal(), publish: async (m) => void published.push(m), cacheSize: 2 });
    for (const id of ['a', 'b', 'c', 'd']) await runtime.handle({ ...event('gate.opened', { timeoutMs: 10 }), workflowId: id, id: `${id}:open` });
    expect(runtime.cachedActors).toBeLessThanOrEqual(2);
    const timerOfA = published.find((m) => m.envelope.type === 'timer.scheduled' && m.envelope.workflowId === 'a')!;
    expect(await runtime.handle({ ...firingOf(timerOfA), workflowId: 'a' })).toMatchObject({ kind: 'applied', stateValue: 'escalated' });
  });
});

/** Approval gates: `review.waiting` has a deadline (escalates), `review.escalated` one that only closes, `manual` none. */
const approvalGateMachine = setup({
  types: {
    context: {} as { timeoutMs: number },
    events: {} as { type: 'gate.noted'; payload: Record<string, never> } | { type: 'gate.decided'; payload: Record<string, never> },
    input: {} as { timeoutMs: number; manual: boolean },
  },
  actions: { requestEffect: (_, _effect: Effect) => undefined },
  delays: { decisionTimeout: ({ context }) => context.timeoutMs, escalationTimeout: 60_000 },
}).createMachine({
  id: 'approvalGate',
  initial: 'routing',
  context: ({ input }) => ({ timeoutMs: input.timeoutMs }),
  states: {
    routing: { always: [{ guard: ({ event }) => (event as unknown as { input?: { manual?: boolean } }).input?.manual === true, target: 'manual' }, { target: 'review' }] },
    review: {
      initial: 'waiting',
      states: {
        waiting: {
          tags: ['approval'],
          entry: { type: 'requestEffect', params: { kind: 'approval.request', gateId: 'wf-1:review', gate: 'review', proposed: null, reason: 'asked', allowedRoles: ['approver'] } },
          after: { decisionTimeout: 'escalated' },
          on: { 'gate.noted': {}, 'gate.decided': '#approvalGate.decided' },
        },
        escalated: {
          tags: ['approval'],
          entry: { type: 'requestEffect', params: { kind: 'approval.request', gateId: 'wf-1:review-escalated', gate: 'review-escalated', proposed: null, reason: 'late', allowedRoles: ['admin'] } },
          after: { escalationTimeout: { actions: [] } },
          on: { 'gate.decided': '#approvalGate.decided' },
        },
      },
    },
    manual: {
      tags: ['approval'],
      entry: { type: 'requestEffect', params: { kind: 'approval.request', gateId: 'wf-1:manual', gate: 'manual', proposed: null, reason: 'no clock', allowedRoles: ['approver'] } },
      on: { 'gate.decided': 'decided' },
    },
    decided: { type: 'final' },
  },
});

const approvalGateWorkflow = defineWorkflow({
  workflowType: 'approval-gate',
  machine: approvalGateMachine,
  machineVersion: '1',
  startEventType: 'gate.opened',
  events: { 'gate.opened': z.object({ timeoutMs: z.number(), manual: z.boolean() }), 'gate.noted': z.object({}), 'gate.decided': z.object({}) },
  input: ({ payload }) => payload as { timeoutMs: number; manual: boolean },
  tags: () => ({}),
});

describe('ActorRuntime approval deadlines', () => {
  function approvalRuntime() {
    const store = new InMemorySnapshotStore();
    const published: OutboxMessage[] = [];
    const runtime = new ActorRuntime({
      definitions: [approvalGateWorkflow],
      store,
      journal: new InMemoryJournal(),
      publish: async (m) => void published.push(m),
      now: () => new Date('2026-01-01T00:00:00.000Z'),
    });
    const changes = () => published.filter((m) => m.envelope.type === 'workflow.changed').map((m) => (m.envelope.payload as { pendingApproval: unknown }).pendingApproval);
    return { runtime, store, published, changes };
  }

  it("records the due time of the timer the gate's state scheduled and the state its deadline leads to, on the record and the change feed", async () => {
    const { runtime, store, published, changes } = approvalRuntime();
    await runtime.handle(event('gate.opened', { timeoutMs: 90_000, manual: false }));
    const timer = published.find((m) => m.envelope.type === 'timer.scheduled')!.envelope.payload as { dueAt: string };
    expect(timer.dueAt).toBe('2026-01-01T00:01:30.000Z');
    const expected = { gate: 'review', requestedAt: '2026-01-01T00:00:00.000Z', deadlineAt: timer.dueAt, onDeadline: 'review.escalated' };
    expect(store.records.get('wf-1')!.pendingApproval).toMatchObject(expected);
    expect(changes()).toEqual([expect.objectContaining(expected)]);
  });

  it('keeps the deadline through events that leave the gate waiting, and takes the next gate\'s own timer after the deadline fires', async () => {
    const { runtime, store, published } = approvalRuntime();
    await runtime.handle(event('gate.opened', { timeoutMs: 90_000, manual: false }));
    await runtime.handle(event('gate.noted', {}));
    expect(store.records.get('wf-1')!.pendingApproval).toMatchObject({ gate: 'review', deadlineAt: '2026-01-01T00:01:30.000Z', onDeadline: 'review.escalated' });
    await runtime.handle(firingOf(published.find((m) => m.envelope.type === 'timer.scheduled')!));
    // The escalated gate's delayed transition has no target (actions only): a deadline, and no state named for it.
    expect(store.records.get('wf-1')!.pendingApproval).toMatchObject({ gate: 'review-escalated', deadlineAt: '2026-01-01T00:01:00.000Z', onDeadline: null });
    await runtime.handle(event('gate.decided', {}));
    expect(store.records.get('wf-1')!.pendingApproval).toBeNull();
  });

  it('records no deadline for a gate whose state schedules no timer', async () => {
    const { runtime, store, published } = approvalRuntime();
    await runtime.handle(event('gate.opened', { timeoutMs: 90_000, manual: true }));
    expect(store.records.get('wf-1')!.stateValue).toBe('manual');
    expect(published.some((m) => m.envelope.type === 'timer.scheduled')).toBe(false);
    expect(store.records.get('wf-1')!.pendingApproval).toMatchObject({ gate: 'manual', deadlineAt: null, onDeadline: null });
  });
});

/** A two-step booking saga: reserve a room (irreversible, compensated by releasing it), then charge. */
const bookingMachine = setup({
  types: {
    context: {} as { compensations: Effect[] },
    events: {} as
      | { type: 'room.reserved'; payload: { reservationId: string } }
      | { type: 'payment.failed'; payload: { reason: string } }
      | { type: 'workflow.cancel_requested'; payload: { reason: string } },
  },
  actions: { requestEffect: (_, _effect: Effect) => undefined },
}).createMachine({
  id: 'booking',
  initial: 'reserving',
  context: { compensations: [] },
  on: { 'workflow.cancel_requested': '.compensating' },
  states: {
    reserving: {
      entry: { type: 'requestEffect', params: { kind: 'agent.task', agent: 'hotel', task: 'reserve', input: {} } },
      on: {
        'room.reserved': {
          target: 'charging',
          actions: assign({
            compensations: ({ context, event }) =>
              recordCompensation(context.compensations, { kind: 'agent.task', agent: 'hotel', task: 'release', input: { reservationId: event.payload.reservationId } }),
          }),
        },
      },
    },
    charging: {
      entry: { type: 'requestEffect', params: { kind: 'agent.task', agent: 'payments', task: 'charge', input: {} } },
      on: { 'payment.failed': 'compensating' },
    },
    compensating: {
      type: 'final',
      entry: enqueueActions(({ context, enqueue }) => {
        for (const effect of compensationsToRun(context.compensations)) enqueue({ type: 'requestEffect', params: effect });
      }),
    },
  },
});

const bookingWorkflow = defineWorkflow({
  workflowType: 'booking',
  machine: bookingMachine,
  machineVersion: '1',
  startEventType: 'booking.requested',
  events: {
    'booking.requested': z.object({}),
    'room.reserved': z.object({ reservationId: z.string() }),
    'payment.failed': z.object({ reason: z.string() }),
    'workflow.cancel_requested': z.object({ reason: z.string() }),
  },
  input: () => ({}),
  tags: () => ({}),
});

describe('ActorRuntime compensation (saga)', () => {
  function bookingRuntime() {
    const published: OutboxMessage[] = [];
    const runtime = new ActorRuntime({ definitions: [bookingWorkflow], store: new InMemorySnapshotStore(), journal: new InMemoryJournal(), publish: async (m) => void published.push(m) });
    return { runtime, published };
  }
  const tasks = (published: OutboxMessage[]) =>
    published.filter((m) => m.envelope.type === 'agent.task_requested').map((m) => (m.envelope.payload as { task: string }).task);

  it('publishes the compensation of an irreversible step when a later step fails', async () => {
    const { runtime, published } = bookingRuntime();
    await runtime.handle(event('booking.requested', {}));
    await runtime.handle(event('room.reserved', { reservationId: 'r-7' }));
    await runtime.handle(event('payment.failed', { reason: 'card declined' }));
    expect(tasks(published)).toEqual(['reserve', 'charge', 'release']);
    expect(published.find((m) => (m.envelope.payload as { task?: string }).task === 'release')!.envelope.payload).toMatchObject({ input: { reservationId: 'r-7' } });
  });

  it('publishes the compensation when the workflow is cancelled after the irreversible step, and none before it', async () => {
    const after = bookingRuntime();
    await after.runtime.handle(event('booking.requested', {}));
    await after.runtime.handle(event('room.reserved', { reservationId: 'r-8' }));
    await after.runtime.handle(event('workflow.cancel_requested', { reason: 'customer withdrew' }));
    expect(tasks(after.published)).toEqual(['reserve', 'charge', 'release']);

    const before = bookingRuntime();
    await before.runtime.handle(event('booking.requested', {}));
    await before.runtime.handle(event('workflow.cancel_requested', { reason: 'customer withdrew' }));
    expect(tasks(before.published)).toEqual(['reserve']);
  });
});
