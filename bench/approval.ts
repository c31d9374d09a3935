import type { NatsConnection } from 'nats';
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { defineWorkflow } from '@troupe/actor-runtime';
import { publishEnvelope } from '@troupe/bus';
import { APPROVAL_DECIDED, ApprovalDecided, workflowEventSubject, type Effect, type Envelope } from '@troupe/contracts';
import { deferred, nowMs, pipelined, summarise, withTimeout, type LatencySummary } from './measure';
import { resetTroupeStreams, startTroupeHost } from './troupe-host';

const APPROVAL_BENCH_STARTED = 'bench.approval_started';

/**
 * An approval gate as the triage workflow has one: the start event proposes a reply and enters
 * `awaitingApproval` (tag `approval`, effect `approval.request`); `approval.decided` from an approver
 * naming the gate moves to `approved` and emits the follow-up agent task.
 */
const approvalMachine = setup({
  types: {
    context: {} as { gateId: string; decidedBy: string | null },
    events: {} as { type: typeof APPROVAL_DECIDED; payload: ApprovalDecided },
    input: {} as { gateId: string },
  },
  actions: { requestEffect: (_, _effect: Effect) => undefined },
  guards: {
    approvedHere: ({ context, event }) => event.payload.gateId === context.gateId && event.payload.decision === 'approved' && event.payload.approver.roles.includes('approver'),
  },
}).createMachine({
  id: 'bench-approval',
  initial: 'awaitingApproval',
  context: ({ input }) => ({ gateId: input?.gateId ?? '', decidedBy: null }),
  states: {
    awaitingApproval: {
      tags: ['approval'],
      entry: {
        type: 'requestEffect',
        params: ({ context }) => ({ kind: 'approval.request', gateId: context.gateId, gate: 'bench-gate', proposed: { reply: 'Thanks, shipped today.' }, reason: 'bench', allowedRoles: ['approver'] }),
      },
      on: { [APPROVAL_DECIDED]: { guard: 'approvedHere', target: 'approved', actions: assign({ decidedBy: ({ event }) => event.payload.approver.id }) } },
    },
    approved: {
      type: 'final',
      entry: { type: 'requestEffect', params: ({ context }) => ({ kind: 'agent.task', agent: 'bench-sink', task: 'send', input: { gateId: context.gateId } }) },
    },
  },
});

const approvalWorkflow = defineWorkflow({
  workflowType: 'bench-approval',
  machine: approvalMachine,
  machineVersion: '1',
  startEventType: APPROVAL_BENCH_STARTED,
  events: { [APPROVAL_BENCH_STARTED]: z.object({ gateId: z.string() }), [APPROVAL_DECIDED]: ApprovalDecided },
  input: ({ payload }) => payload as { gateId: string },
  tags: () => ({}),
});

function envelope(workflowId: string, id: string, type: string, payload: unknown): Envelope {
  return { id, type, workflowId, correlationId: workflowId, causationId: null, occurredAt: '2026-01-01T00:00:00.000Z', source: 'bench', payload };
}

/** Publish → persisted latency of approval decisions, one at a time. */
export interface ApprovalLatencyResult {
  samples: number;
  /** `approval.decided` published → the record in state `approved` confirmed by the store. */
  toPersisted: LatencySummary;
  /** The same → the inbound message acked (after the follow-up effect and change feed were published). */
  toAcked: LatencySummary;
}

/**
 * An approval event's latency at low load: `samples` workflows wait at the gate (started first, not
 * timed); then one decision at a time is published (as the gateway publishes it) and timed until the
 * runtime's store write of the next state (`approved`) is confirmed, and until the ack.
 *
 * @throws Error when a decision did not move its workflow within 10 s.
 */
export async function runApprovalLatency(nats: NatsConnection, options: { samples: number; runId: string }): Promise<ApprovalLatencyResult> {
  await resetTroupeStreams(nats);
  const js = nats.jetstream();
  const host = await startTroupeHost(nats, { definitions: [approvalWorkflow], concurrency: 64, cacheSize: 10_000 });
  const publish = (event: Envelope) => publishEnvelope(js, workflowEventSubject(event.workflowId), event, { msgId: event.id });
  const ids = Array.from({ length: options.samples }, (_, i) => `${options.runId}-gate${i}`);
  try {
    await host.startWorkflowConsumers('partitions');
    await pipelined(ids.length, 64, async (i) => {
      await publish(envelope(ids[i], `${ids[i]}-start`, APPROVAL_BENCH_STARTED, { gateId: `${ids[i]}:gate` }));
    });
    await withTimeout(host.probe.acks(ids.length), 60_000, `approval gates (${host.describe()})`);
    const toPersisted: number[] = [];
    const toAcked: number[] = [];
    for (const id of ids) {
      const persisted = deferred<number>();
      host.probe.onSaved = (record, at) => {
        if (record.workflowId === id && record.stateValue === 'approved') persisted.resolve(at);
      };
      const eventId = `${id}-decided`;
      const acked = host.probe.ackOf(eventId);
      const decided: ApprovalDecided = { gateId: `${id}:gate`, decision: 'approved', approver: { id: 'bench-approver', roles: ['approver'] }, comment: null, editedText: null };
      const sentAt = nowMs();
      await publish(envelope(id, eventId, APPROVAL_DECIDED, decided));
      toPersisted.push((await withTimeout(persisted.promise, 10_000, `approval ${id} (${host.describe()})`)) - sentAt);
      toAcked.push((await withTimeout(acked, 10_000, `approval ${id} ack`)) - sentAt);
    }
    if (host.runtime.counters.rejected > 0) throw new Error(`approval run: ${host.describe()}`);
    return { samples: ids.length, toPersisted: summarise(toPersisted), toAcked: summarise(toAcked) };
  } finally {
    host.probe.onSaved = null;
    await host.close();
  }
}
