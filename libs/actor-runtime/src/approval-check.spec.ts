import { describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { z } from 'zod';
import { ApprovalDecided, type Effect, type Envelope, type JournalEntry, type Role } from '@troupe/contracts';
import type { Journal, OutboxMessage, SnapshotStore, WorkflowRecord } from '@troupe/persistence';
import { ActorRuntime, defineWorkflow } from '@troupe/actor-runtime';

/** Test double: an in-memory snapshot store (no version checks needed here: one writer). */
class InMemorySnapshotStore implements SnapshotStore {
  readonly records = new Map<string, WorkflowRecord>();
  async load(workflowId: string) {
    const record = this.records.get(workflowId);
    return record === undefined ? null : structuredClone(record);
  }
  async save(record: WorkflowRecord) {
    this.records.set(record.workflowId, structuredClone(record));
  }
  async list() {
    return { items: [...this.records.values()], nextCursor: null };
  }
}

/** Test double: an in-memory journal. */
class InMemoryJournal implements Journal {
  readonly entries: JournalEntry[] = [];
  async append(entry: JournalEntry) {
    if (!this.entries.some((e) => e.workflowId === entry.workflowId && e.seq === entry.seq)) this.entries.push(entry);
  }
  async read(workflowId: string) {
    return this.entries.filter((e) => e.workflowId === workflowId).sort((a, b) => a.seq - b.seq);
  }
}

// A one-gate machine whose own guard accepts any decision naming its gate: the runtime's role and gate
// checks are what keep a viewer out.
const approvalMachine = setup({
  types: { context: {} as { workflowId: string }, events: {} as { type: 'approval.decided'; payload: ApprovalDecided }, input: {} as { workflowId: string } },
  actions: { requestEffect: (_, _effect: Effect) => undefined },
  guards: {
    namesGate: ({ context, event }) => event.payload.gateId === `${context.workflowId}:publish` && event.payload.decision !== 'edited',
  },
}).createMachine({
  id: 'publishing',
  initial: 'awaiting',
  context: ({ input }) => ({ workflowId: input.workflowId }),
  states: {
    awaiting: {
      tags: ['approval'],
      entry: {
        type: 'requestEffect',
        params: ({ context }) => ({
          kind: 'approval.request',
          gateId: `${context.workflowId}:publish`,
          gate: 'publish',
          proposed: { title: 'Release notes' },
          reason: 'The writer agent finished a draft.',
          allowedRoles: ['approver', 'admin'] satisfies Role[],
        }),
      },
      on: { 'approval.decided': { guard: 'namesGate', target: 'published' } },
    },
    published: { type: 'final' },
  },
});

const approvalWorkflow = defineWorkflow({
  workflowType: 'publishing',
  machine: approvalMachine,
  machineVersion: '1',
  startEventType: 'draft.written',
  events: { 'draft.written': z.object({}), 'approval.decided': ApprovalDecided },
  input: ({ workflowId }) => ({ workflowId }),
  tags: () => ({}),
});

let sequence = 0;
function envelope(type: string, payload: unknown): Envelope {
  return { id: `e${++sequence}`, type, workflowId: 'wf-1', correlationId: 'wf-1', causationId: null, occurredAt: '2026-01-01T00:00:00.000Z', source: 'test', payload };
}

function decision(overrides: Partial<ApprovalDecided> = {}): Envelope {
  return envelope('approval.decided', {
    gateId: 'wf-1:publish',
    decision: 'approved',
    approver: { id: 'alice', roles: ['approver'] },
    comment: null,
    editedText: null,
    ...overrides,
  });
}

async function started() {
  const store = new InMemorySnapshotStore();
  const journal = new InMemoryJournal();
  const published: OutboxMessage[] = [];
  const runtime = new ActorRuntime({ definitions: [approvalWorkflow], store, journal, publish: async (m) => void published.push(m) });
  await runtime.handle(envelope('draft.written', {}));
  return { runtime, store, journal, published };
}

describe('ActorRuntime approval decisions', () => {
  it('publishes approval.requested with what is proposed, why, and who may decide', async () => {
    const { published, store } = await started();
    const request = published.find((m) => m.envelope.type === 'approval.requested');
    expect(request?.subject).toBe('troupe.approval.requested');
    expect(request?.envelope.payload).toEqual({
      gateId: 'wf-1:publish',
      gate: 'publish',
      proposed: { title: 'Release notes' },
      reason: 'The writer agent finished a draft.',
      allowedRoles: ['approver', 'admin'],
      workflowType: 'publishing',
    });
    expect(store.records.get('wf-1')?.pendingApproval).toMatchObject({ gateId: 'wf-1:publish', allowedRoles: ['approver', 'admin'] });
  });

  it('journals a decision from a role not allowed at the gate as rejected, naming the allowed roles, and does not move', async () => {
    const { runtime, store, journal } = await started();
    const outcome = await runtime.handle(decision({ approver: { id: 'victor', roles: ['viewer', 'operator'] } }));
    expect(outcome).toMatchObject({ kind: 'rejected', version: 2 });
    const entry = (await journal.read('wf-1'))[1];
    expect(entry.rejection).toBe('victor (roles viewer, operator) may not decide gate publish: allowed roles are approver, admin');
    expect(entry.stateValue).toBe('awaiting');
    expect(store.records.get('wf-1')?.pendingApproval?.gateId).toBe('wf-1:publish');
  });

  it('rejects a decision naming another gate than the pending one', async () => {
    const { runtime, journal } = await started();
    expect(await runtime.handle(decision({ gateId: 'wf-1:other' }))).toMatchObject({ kind: 'rejected' });
    expect((await journal.read('wf-1'))[1].rejection).toBe('gate wf-1:other is not the pending gate: wf-1:publish (publish) is pending');
  });

  it('applies a decision from an allowed role, and rejects a second decision on the decided gate', async () => {
    const { runtime, journal, store } = await started();
    expect(await runtime.handle(decision())).toMatchObject({ kind: 'applied', stateValue: 'published' });
    expect(store.records.get('wf-1')?.pendingApproval).toBeNull();
    const second = await runtime.handle(decision({ decision: 'rejected', approver: { id: 'bob', roles: ['admin'] } }));
    expect(second).toMatchObject({ kind: 'rejected', version: 3 });
    const entries = await journal.read('wf-1');
    expect(entries[2].rejection).toBe('workflow is done in state "published"');
    expect(entries[2].stateValue).toBe('published');
  });

  it('rejects a decision on a gate no longer pending in a workflow that is still active', async () => {
    const { store, journal } = await started();
    // The record no longer has a pending gate (as after a decision moved an active workflow on).
    const record = store.records.get('wf-1')!;
    store.records.set('wf-1', { ...record, pendingApproval: null });
    const fresh = new ActorRuntime({ definitions: [approvalWorkflow], store, journal, publish: async () => undefined });
    expect(await fresh.handle(decision())).toMatchObject({ kind: 'rejected' });
    expect((await journal.read('wf-1'))[1].rejection).toBe(
      'gate wf-1:publish is not pending: no approval is pending in state "awaiting" (already decided, expired, or never requested)',
    );
  });

  it("leaves the final word to the machine's guards when the gate and role fit", async () => {
    const { runtime, journal } = await started();
    expect(await runtime.handle(decision({ decision: 'edited', editedText: 'new title' }))).toMatchObject({ kind: 'rejected' });
    expect((await journal.read('wf-1'))[1].rejection).toMatch(/not accepted in state "awaiting".*guards refused/);
  });
});
