import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { NatsConnection } from 'nats';
import { fairShare, publishEnvelope, readPartitionLeases } from '@troupe/bus';
import { ALL_WORKFLOW_CHANGES, DEFAULT_PARTITION_COUNT, workflowEventSubject, type Envelope } from '@troupe/contracts';
import { bumpedEvent, openedEvent } from './bench-workflow';
import { cpuSince, deferred, middleWindow, nowMs, perSecond, pipelined, sampleCpu, windowRate, withTimeout } from './measure';
import { REGISTER } from './memory';
import type { ReplicaChildOptions, ReplicaReport } from './replica-child';
import { benchReplicaReportSubject, benchReplicasGoSubject } from './topology';
import { resetTroupeStreams } from './troupe-host';
import { benchWorkflowIds } from './troupe-steps';

/** One point of the replica curve. */
export interface ReplicaPoint {
  replicas: number;
  workflows: number;
  /** Steps applied: one start per workflow, then the bumps. */
  steps: number;
  elapsedMs: number;
  /** Steady state: change-feed messages from 10 % to 90 % of the way through the bumps (as the in-process run). */
  stepsPerSec: number;
  /** First change-feed message to the `workflows`-th (start steps, on cold replicas). */
  startStepsPerSec: number;
  /** Each replica's owned partitions and applied steps. */
  reports: ReplicaReport[];
  /** CPU of all replicas from the go message to the end (their own accounting) and of nats-server, per step (µs). */
  replicaCpuUsPerStep: number;
  serverCpuUsPerStep: number | null;
  /** Time for the replicas to settle on a fair share of the 16 partition leases (ms). */
  leaseSettleMs: number;
}

function spawnReplica(url: string, options: ReplicaChildOptions): { child: ChildProcess; ready: Promise<void>; exited: Promise<number | null>; stderr: () => string } {
  const child = spawn(process.execPath, ['-r', REGISTER, path.join(__dirname, 'replica-child.ts'), url, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const ready = deferred<void>();
  child.stdout?.on('data', (chunk: Buffer) => {
    if (chunk.toString().includes('ready')) ready.resolve();
  });
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  void exited.then((code) => ready.reject(new Error(`replica ${options.ownerId} exited (${code}): ${stderr}`)));
  return { child, ready: ready.promise, exited, stderr: () => stderr };
}

/**
 * Durable steps/s with `replicas` orchestrator processes on this machine, each owning its fair share
 * of the 16 partitions by lease (bench/replica-child.ts). The events are published first; the replicas
 * start, settle their leases, then all start consuming at one go message; the bench counts the change
 * feed (one message per applied step) and rates its steady state.
 *
 * @throws Error when the leases do not settle, a replica fails, or steps are missing.
 */
export async function runReplicaPoint(
  nats: NatsConnection,
  url: string,
  options: { replicas: number; workflows: number; events: number; concurrency: number; runId: string; serverPid?: number },
): Promise<ReplicaPoint> {
  await resetTroupeStreams(nats);
  const js = nats.jetstream();
  const ids = benchWorkflowIds(options.runId, options.workflows);
  const publish = (event: Envelope) => publishEnvelope(js, workflowEventSubject(event.workflowId), event, { msgId: event.id }).then(() => undefined);
  await pipelined(ids.length, 256, (i) => publish(openedEvent(ids[i])));
  await pipelined(options.events, 256, (i) => publish(bumpedEvent(ids[i % ids.length], Math.floor(i / ids.length) + 1)));
  const steps = ids.length + options.events;

  const goSubject = benchReplicasGoSubject(options.runId);
  const replicas = Array.from({ length: options.replicas }, (_, i) =>
    spawnReplica(url, {
      ownerId: `${options.runId}-replica${i}`,
      concurrency: options.concurrency,
      cacheSize: 10_000,
      leaseTtlMs: 3_000,
      goSubject,
      reportSubject: benchReplicaReportSubject(options.runId, i),
    }),
  );
  try {
    await withTimeout(Promise.all(replicas.map((r) => r.ready)), 60_000, 'replicas ready');
    const owners = replicas.map((_, i) => `${options.runId}-replica${i}`);
    const settleStarted = nowMs();
    for (;;) {
      const leases = await readPartitionLeases(nats).catch(() => []);
      const counts = owners.map((owner) => leases.filter((lease) => lease.ownerId === owner).length);
      if (leases.length === DEFAULT_PARTITION_COUNT && owners.every((owner, i) => counts[i] === fairShare(DEFAULT_PARTITION_COUNT, owners, owner))) break;
      if (nowMs() - settleStarted > 60_000) throw new Error(`leases did not settle: ${JSON.stringify(counts)} of ${leases.length}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const leaseSettleMs = nowMs() - settleStarted;

    let seen = 0;
    const changedAt: number[] = [];
    const done = deferred<number>();
    const subscription = nats.subscribe(ALL_WORKFLOW_CHANGES, {
      callback: () => {
        const at = nowMs();
        changedAt.push(at);
        seen += 1;
        if (seen === steps) done.resolve(at);
      },
    });
    await nats.flush();
    const serverCpu = sampleCpu(options.serverPid);
    nats.publish(goSubject);
    await withTimeout(done.promise, 120_000 + steps * 10, `replica run (${seen} of ${steps} steps)`);
    const server = cpuSince(serverCpu, options.serverPid);
    subscription.unsubscribe();
    // The change-feed message goes out a moment before the runtime counts its step: ask until all are counted.
    let reports: ReplicaReport[] = [];
    const askedAt = nowMs();
    for (;;) {
      reports = [];
      for (let i = 0; i < replicas.length; i += 1) {
        const reply = await nats.request(benchReplicaReportSubject(options.runId, i), undefined, { timeout: 5_000 });
        reports.push(JSON.parse(new TextDecoder().decode(reply.data)) as ReplicaReport);
      }
      const applied = reports.reduce((sum, r) => sum + r.applied, 0);
      if (applied === steps) break;
      if (applied > steps || nowMs() - askedAt > 10_000) throw new Error(`replicas applied ${applied} of ${steps} steps`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const window = middleWindow(ids.length, options.events);
    const steady = windowRate(changedAt, window.from, window.to);
    const replicaCpuMs = reports.reduce((sum, r) => sum + r.cpuMs, 0);
    return {
      replicas: options.replicas,
      workflows: ids.length,
      steps,
      elapsedMs: steady.elapsedMs,
      stepsPerSec: steady.opsPerSec,
      startStepsPerSec: perSecond(ids.length - 1, changedAt[ids.length - 1] - changedAt[0]),
      reports,
      replicaCpuUsPerStep: (replicaCpuMs * 1_000) / steps,
      serverCpuUsPerStep: server.otherMs === null ? null : (server.otherMs * 1_000) / steps,
      leaseSettleMs,
    };
  } finally {
    for (const replica of replicas) replica.child.kill('SIGTERM');
    await Promise.all(
      replicas.map((replica) =>
        withTimeout(replica.exited, 15_000, 'replica exit').catch(() => {
          replica.child.kill('SIGKILL');
        }),
      ),
    );
  }
}
