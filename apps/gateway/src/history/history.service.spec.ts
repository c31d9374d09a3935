import { BadRequestException, ConflictException, NotFoundException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { ActorRuntime, defineWorkflow } from '@troupe/actor-runtime';
import type { Envelope, JournalEntry } from '@troupe/contracts';
import { VersionConflictError, type Journal, type ReadModelStore, type WorkflowRecord } from '@troupe/persistence';
import type { JetStreamClient, NatsConnection } from 'nats';
import type { GatewayPorts } from '../ports';
import { HistoryService } from './history.service';

const tallyMachine = setup({ types: { context: {} as { total: number }, events: {} as { type: 'tally.added'; payload: { n: number } } | { type: 'tally.closed' } } }).createMachine({
  id: 'tally',
  initial: 'open',
  context: { total: 0 },
  states: {
    open: { on: { 'tally.added': { actions: assign({ total: ({ context, event }) => context.total + event.payload.n }) }, 'tally.closed': 'closed' } },
    closed: { type: 'final' },
  },
});

const tally = defineWorkflow({
  workflowType: 'tally',
  machine: tallyMachine,
  machineVersion: '1',
  startEventType: 'tally.opened',
  events: { 'tally.opened': z.object({}), 'tally.added': z.object({ n: z.number() }), 'tally.closed': z.object({}) },
  input: () => ({}),
  tags: (snapshot) => ({ total: String(snapshot.context.total) }),
});

/** Ports over in-memory maps; `published` collects what the service publishes. */
function ports() {
  const records = new Map<string, WorkflowRecord>();
  const entries: JournalEntry[] = [];
  const published: Array<{ subject: string; envelope: Envelope }> = [];
  const store: ReadModelStore = {
    load: async (id) => structuredClone(records.get(id) ?? null),
    save: async (record, expected) => {
      if ((records.get(record.workflowId)?.version ?? 0) !== expected || (expected === 0 && records.has(record.workflowId))) {
        throw new VersionConflictError(record.workflowId, expected, records.get(record.workflowId)?.version ?? null);
      }
      records.set(record.workflowId, structuredClone(record));
    },
    list: async () => ({ items: [], nextCursor: null }),
    count: async () => ({ total: 0, byStatus: {}, byState: {} }),
  };
  const journal: Journal = {
    append: async (entry) => void (entries.some((e) => e.workflowId === entry.workflowId && e.seq === entry.seq) || entries.push(structuredClone(entry))),
    read: async (id) => entries.filter((e) => e.workflowId === id).sort((a, b) => a.seq - b.seq),
  };
  const js = {
    publish: async (subject: string, data: Uint8Array) => {
      published.push({ subject, envelope: JSON.parse(new TextDecoder().decode(data)) as Envelope });
      return { seq: published.length, duplicate: false, stream: 'WF_EVENTS' };
    },
  } as unknown as JetStreamClient;
  const gateway: GatewayPorts = {
    store,
    journal,
    js,
    nats: {} as unknown as NatsConnection,
    catalog: [],
    now: () => new Date('2026-01-01T00:00:00.000Z'),
    newId: () => 'fork-id',
  };
  return { gateway, records, published, runtime: new ActorRuntime({ definitions: [tally], store, journal, publish: async () => undefined }) };
}

function event(workflowId: string, type: string, payload: unknown, n: number): Envelope {
  return { id: `${workflowId}:${n}`, type, workflowId, correlationId: workflowId, causationId: null, occurredAt: '2026-01-01T00:00:00.000Z', source: 'test', payload };
}

async function tallyOf(runtime: ActorRuntime, workflowId: string, adds: number[]): Promise<void> {
  await runtime.handle(event(workflowId, 'tally.opened', {}, 0));
  for (const [i, n] of adds.entries()) await runtime.handle(event(workflowId, 'tally.added', { n }, i + 1));
}

const operator = { id: 'op', roles: ['operator' as const], via: 'api-key' as const };

describe('HistoryService', () => {
  it('replays a step and says whether it matches, comparing the stored snapshot at the latest step', async () => {
    const { gateway, runtime } = ports();
    await tallyOf(runtime, 't-1', [1, 2, 3]);
    const service = new HistoryService(gateway, [tally]);
    expect(await service.replay('t-1', 2)).toMatchObject({ step: 2, lastStep: 4, context: { total: 1 }, matchesSnapshot: true, matchesStoredSnapshot: null });
    expect(await service.replay('t-1', undefined)).toMatchObject({ step: 4, context: { total: 6 }, matchesSnapshot: true, matchesStoredSnapshot: true });
  });

  it('answers a missing workflow with 404, a step outside the journal with 400, and an unknown machine with 409', async () => {
    const { gateway, runtime } = ports();
    await tallyOf(runtime, 't-2', [1]);
    await expect(new HistoryService(gateway, [tally]).replay('nobody', 1)).rejects.toBeInstanceOf(NotFoundException);
    await expect(new HistoryService(gateway, [tally]).replay('t-2', 3)).rejects.toBeInstanceOf(BadRequestException);
    await expect(new HistoryService(gateway, []).replay('t-2', 1)).rejects.toBeInstanceOf(ConflictException);
  });

  it('forks at a step, publishes the next event into the fork only, and refuses an id that exists or an event not accepted', async () => {
    const { gateway, runtime, records, published } = ports();
    await tallyOf(runtime, 't-3', [5, 7]);
    const source = structuredClone(records.get('t-3'));
    const service = new HistoryService(gateway, [tally]);
    const forked = await service.fork('t-3', { step: 2, event: { type: 'tally.added', payload: { n: 100 } }, workflowId: 't-3-what-if' }, operator);
    expect(forked).toMatchObject({ workflowId: 't-3-what-if', forkedFrom: { workflowId: 't-3', step: 2 }, version: 2, stateValue: 'open' });
    expect(published.map((p) => [p.envelope.workflowId, p.envelope.type])).toEqual([['t-3-what-if', 'tally.added']]);
    expect(records.get('t-3-what-if')).toMatchObject({ version: 2, tags: { total: '5' } });
    expect(records.get('t-3')).toEqual(source);
    await expect(service.fork('t-3', { step: 2, event: { type: 'tally.added', payload: { n: 1 } }, workflowId: 't-3-what-if' }, operator)).rejects.toBeInstanceOf(ConflictException);
    await expect(service.fork('t-3', { step: 1, event: { type: 'tally.reopened', payload: {} } }, operator)).rejects.toBeInstanceOf(ConflictException);
    expect(published).toHaveLength(1);
  });
});
