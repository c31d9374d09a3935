import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { z } from 'zod';
import type { Effect, Envelope, JournalEntry } from '@troupe/contracts';
import type { Journal, SnapshotStore, WorkflowRecord } from '@troupe/persistence';
import { currentTraceId, startInMemoryTelemetry, withSpan, workflowTypeFromBaggage, type InMemoryTelemetry } from '@troupe/telemetry';
import { ActorRuntime, defineWorkflow } from '@troupe/actor-runtime';

/** Test double: a snapshot store in memory (no version checks needed here). */
class MemoryStore implements SnapshotStore {
  readonly records = new Map<string, WorkflowRecord>();
  async load(workflowId: string) {
    return this.records.get(workflowId) ?? null;
  }
  async save(record: WorkflowRecord) {
    this.records.set(record.workflowId, record);
  }
  async list() {
    return { items: [...this.records.values()], nextCursor: null };
  }
}

/** Test double: a journal in memory. */
class MemoryJournal implements Journal {
  readonly entries: JournalEntry[] = [];
  async append(entry: JournalEntry) {
    this.entries.push(entry);
  }
  async read(workflowId: string) {
    return this.entries.filter((entry) => entry.workflowId === workflowId);
  }
}

const doorMachine = setup({
  types: { events: {} as { type: 'door.closed'; payload: Record<string, never> } | { type: 'door.jammed'; payload: Record<string, never> } },
  actions: { requestEffect: (_, _effect: Effect) => undefined },
}).createMachine({
  id: 'door',
  initial: 'open',
  states: {
    open: { entry: { type: 'requestEffect', params: { kind: 'agent.task', agent: 'greeter', task: 'greet', input: {} } }, on: { 'door.closed': 'closed', 'door.jammed': 'failed' } },
    closed: { type: 'final' },
    failed: { type: 'final' },
  },
});

const doorWorkflow = defineWorkflow({
  workflowType: 'door',
  machine: doorMachine,
  machineVersion: '1',
  startEventType: 'door.opened',
  events: { 'door.opened': z.object({}), 'door.closed': z.object({}), 'door.jammed': z.object({}) },
  input: () => ({}),
  tags: () => ({}),
});

function envelope(type: string, id: string, workflowId = 'door-1'): Envelope {
  return { id, type, workflowId, correlationId: workflowId, causationId: null, occurredAt: '2026-01-01T00:00:00.000Z', source: 'test', payload: {} };
}

describe('ActorRuntime telemetry', () => {
  let telemetry: InMemoryTelemetry;

  beforeEach(() => {
    telemetry = startInMemoryTelemetry();
  });

  afterEach(async () => {
    await telemetry.stop();
  });

  it('runs each step in a workflow.transition span and records the trace id in the record and journal', async () => {
    const store = new MemoryStore();
    const journal = new MemoryJournal();
    const published: Array<{ traceId: string | null; workflowType: string | null }> = [];
    const runtime = new ActorRuntime({
      definitions: [doorWorkflow],
      store,
      journal,
      publish: async () => {
        published.push({ traceId: currentTraceId(), workflowType: workflowTypeFromBaggage() });
      },
    });
    let firstTraceId = '';
    await withSpan('process first', {}, async (span) => {
      firstTraceId = span.spanContext().traceId;
      await runtime.handle(envelope('door.opened', 'e1'));
    });
    const afterFirst = store.records.get('door-1')!;
    expect(afterFirst.traceId).toBe(firstTraceId);
    expect(afterFirst.traceParent).toMatch(new RegExp(`^00-${firstTraceId}-[0-9a-f]{16}-01$`));
    expect(published).toEqual([
      { traceId: firstTraceId, workflowType: 'door' },
      { traceId: firstTraceId, workflowType: 'door' },
    ]);

    // An event from another trace (a producer that did not continue the workflow's trace).
    await withSpan('process second', {}, () => runtime.handle(envelope('door.closed', 'e2')));
    const afterSecond = store.records.get('door-1')!;
    expect(afterSecond.traceId).toBe(firstTraceId);
    expect(afterSecond.traceParent).toBe(afterFirst.traceParent);
    expect(journal.entries[0].traceId).toBe(firstTraceId);
    expect(journal.entries[1].traceId).not.toBe(firstTraceId);

    const transitions = telemetry.spans().filter((span) => span.name === 'workflow.transition');
    expect(transitions.map((span) => span.attributes)).toMatchObject([
      { 'troupe.workflow.type': 'door', 'troupe.workflow.id': 'door-1', 'troupe.workflow.from_state': '(none)', 'troupe.workflow.to_state': 'open', 'troupe.event.type': 'door.opened', 'troupe.workflow.version': 1, 'troupe.step.outcome': 'applied' },
      { 'troupe.workflow.from_state': 'open', 'troupe.workflow.to_state': 'closed', 'troupe.event.type': 'door.closed', 'troupe.workflow.version': 2, 'troupe.workflow.status': 'done' },
    ]);
    const parent = telemetry.spans().find((span) => span.name === 'process first')!;
    expect(transitions[0].parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(afterFirst.traceParent).toContain(transitions[0].spanContext().spanId);
  });

  it('counts workflows started, completed and failed, step latency, and the actors in memory', async () => {
    const store = new MemoryStore();
    const runtime = new ActorRuntime({ definitions: [doorWorkflow], store, journal: new MemoryJournal(), publish: async () => undefined });
    await runtime.handle(envelope('door.opened', 'e1'));
    await runtime.handle(envelope('door.opened', 'e1'));
    await runtime.handle(envelope('door.closed', 'e2'));
    await runtime.handle(envelope('door.opened', 'e3', 'door-2'));
    await runtime.handle(envelope('door.jammed', 'e4', 'door-2'));
    const metrics = (await telemetry.collectMetrics()).scopeMetrics.flatMap((scope) => scope.metrics);
    const points = (name: string) => metrics.filter((metric) => metric.descriptor.name === name).flatMap((metric) => metric.dataPoints as Array<{ attributes: Record<string, unknown>; value: unknown }>);
    expect(points('troupe.workflows.started').map((point) => [point.attributes, point.value])).toEqual([[{ 'troupe.workflow.type': 'door' }, 2]]);
    expect(points('troupe.workflows.completed').map((point) => [point.attributes, point.value])).toEqual([[{ 'troupe.workflow.type': 'door', 'troupe.workflow.final_state': 'closed' }, 1]]);
    expect(points('troupe.workflows.failed').map((point) => [point.attributes, point.value])).toEqual([[{ 'troupe.workflow.type': 'door', 'troupe.workflow.final_state': 'failed' }, 1]]);
    const steps = points('troupe.workflow.step.duration').map((point) => [point.attributes['troupe.event.type'], point.attributes['troupe.step.outcome'], (point.value as { count: number }).count]);
    expect(steps).toEqual([
      ['door.opened', 'applied', 2],
      ['door.opened', 'duplicate', 1],
      ['door.closed', 'applied', 1],
      ['door.jammed', 'applied', 1],
    ]);
    // Summed over the runtimes alive in this process (the previous test's may not be collected yet).
    const [cacheSize] = points('troupe.actor.cache.size');
    expect(runtime.cachedActors).toBe(2);
    expect(cacheSize.value as number).toBeGreaterThanOrEqual(1);
  });
});
