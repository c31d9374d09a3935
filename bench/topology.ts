import { STREAMS, type ConsumerDefinition, type StreamDefinition } from '@troupe/contracts';

/**
 * Streams, subjects and the KV bucket of the raw JetStream floor, and the control subjects of the
 * replica curve. They live under `bench.` (outside `troupe.`), so the floor never touches Troupe's
 * streams, and mirror the retention and duplicate windows of the Troupe streams each one stands in for.
 */
export const BENCH_STREAMS = {
  /** (a) publish with ack. Stands in for any Troupe stream (limits, 10 min dedupe window). */
  publish: { ...STREAMS.workflowEvents, name: 'BENCH_PUBLISH', subjects: ['bench.publish.*'], description: 'bench: publish with ack' },
  /** (b), (d) input: stands in for WF_EVENTS. */
  input: { ...STREAMS.workflowEvents, name: 'BENCH_INPUT', subjects: ['bench.in.*'], description: 'bench: consumed events' },
  /** (d) outbox effect: stands in for AGENT_TASKS (work queue). */
  outbox: { ...STREAMS.agentTasks, name: 'BENCH_OUTBOX', subjects: ['bench.out.*'], description: 'bench: outbox effects' },
  /** (d') change feed: stands in for WF_CHANGES. */
  changes: { ...STREAMS.workflowChanges, name: 'BENCH_CHANGES', subjects: ['bench.changes.*'], description: 'bench: change feed' },
  /** (d') journal: stands in for TROUPE_JOURNAL. */
  journal: { ...STREAMS.journal, name: 'BENCH_JOURNAL', subjects: ['bench.journal.*'], description: 'bench: journal' },
} as const satisfies Record<string, StreamDefinition>;

/** KV bucket of the floor's compare-and-set (history 1, like the snapshot bucket). */
export const BENCH_BUCKET = 'bench_kv';

export const benchPublishSubject = (key: string): string => `bench.publish.${key}`;
export const benchInputSubject = (key: string): string => `bench.in.${key}`;
export const benchOutboxSubject = (key: string): string => `bench.out.${key}`;
export const benchChangesSubject = (key: string): string => `bench.changes.${key}`;
export const benchJournalSubject = (key: string): string => `bench.journal.${key}`;

/** Core subject on which the replicas of run `runId` start consuming (bench/replicas.ts). */
export const benchReplicasGoSubject = (runId: string): string => `bench.replicas.${runId}.go`;
/** Core subject on which replica `index` of run `runId` answers with its report. */
export const benchReplicaReportSubject = (runId: string, index: number): string => `bench.replicas.${runId}.report.${index}`;

/** A durable pull consumer on the floor's input stream, delivery settings as the orchestrator's. */
export function benchInputConsumer(durable: string, maxAckPending: number): ConsumerDefinition {
  return {
    stream: BENCH_STREAMS.input.name,
    durable,
    filterSubject: 'bench.in.*',
    maxDeliver: 5,
    ackWaitMs: 30_000,
    backoffMs: [500],
    maxAckPending,
  };
}
