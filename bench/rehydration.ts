import type { NatsConnection } from 'nats';
import type { WorkflowDefinition } from '@troupe/actor-runtime';
import { KvSnapshotStore } from '@troupe/persistence';
import { nowMs, perSecond, pipelined, summarise, type LatencySummary } from './measure';

/** Cold start: load + resolve of stored snapshots with nothing cached. */
export interface RehydrationResult {
  workflows: number;
  /** One workflow at a time: per-workflow latency. */
  serial: { perSec: number; latency: LatencySummary };
  /** `inFlight` workflows at a time. */
  pipelined: { perSec: number; inFlight: number };
  /** Mean stored record size (UTF-8 JSON bytes). */
  meanRecordBytes: number;
}

/**
 * What rehydrating a passivated actor costs before its next event can be applied: `KvSnapshotStore.load`
 * (KV get + JSON parse + record schema check) and `machine.resolveState` of the stored snapshot, the two
 * things `ActorRuntime` does on a cache miss. Each pass opens a fresh store, so its revision cache is
 * empty too.
 *
 * @throws Error when a workflow has no stored snapshot.
 */
export async function runRehydration(
  nats: NatsConnection,
  definition: WorkflowDefinition,
  workflowIds: string[],
  inFlight: number,
): Promise<RehydrationResult> {
  let bytes = 0;
  const rehydrate = async (store: KvSnapshotStore, workflowId: string): Promise<void> => {
    const record = await store.load(workflowId);
    if (record === null) throw new Error(`no stored snapshot for ${workflowId}`);
    definition.machine.resolveState(record.snapshot as never);
  };

  const serialStore = await KvSnapshotStore.open({ nats });
  const samples: number[] = [];
  const serialStarted = nowMs();
  for (const workflowId of workflowIds) {
    const t = nowMs();
    await rehydrate(serialStore, workflowId);
    samples.push(nowMs() - t);
  }
  const serialMs = nowMs() - serialStarted;

  const pipelinedStore = await KvSnapshotStore.open({ nats });
  const pipelinedStarted = nowMs();
  await pipelined(workflowIds.length, inFlight, (i) => rehydrate(pipelinedStore, workflowIds[i]));
  const pipelinedMs = nowMs() - pipelinedStarted;

  for (const workflowId of workflowIds.slice(0, 100)) {
    const record = await serialStore.load(workflowId);
    bytes += Buffer.byteLength(JSON.stringify(record));
  }
  return {
    workflows: workflowIds.length,
    serial: { perSec: perSecond(workflowIds.length, serialMs), latency: summarise(samples) },
    pipelined: { perSec: perSecond(workflowIds.length, pipelinedMs), inFlight },
    meanRecordBytes: bytes / Math.min(100, workflowIds.length),
  };
}
