import type { NatsConnection } from 'nats';
import { publishEnvelope } from '@troupe/bus';
import { workflowEventSubject, type Envelope } from '@troupe/contracts';
import { benchWorkflow, bumpedEvent, openedEvent } from './bench-workflow';
import { middleWindow, nowMs, perSecond, pipelined, summarise, windowRate, withTimeout, type LatencySummary } from './measure';
import type { CpuPerOp } from './raw-jetstream';
import type { PhaseBreakdown } from './step-probe';
import { resetTroupeStreams, startTroupeHost } from './troupe-host';

/** Sizes and settings of one Troupe step run. */
export interface TroupeStepOptions {
  /** Bump events measured (after each workflow's start event). */
  events: number;
  workflows: number;
  /** Handler calls in flight (`JetStreamServer` concurrency; the orchestrator's default is 64). */
  concurrency: number;
  /** Single events timed at 1 in flight after the throughput run; 0 skips. */
  latencySamples: number;
  /** Actors the runtime keeps in memory (the orchestrator's default is 10,000). */
  cacheSize: number;
  /** Prefix of this run's workflow ids, unique per run (the KV bucket keeps earlier runs' records). */
  runId: string;
  /** Runtime `idleMs` (default the runtime's). */
  idleMs?: number;
  /** nats-server's pid, to read its CPU time from /proc. */
  serverPid?: number;
  /**
   * `partitions` (default): one durable consumer per partition, all started on one server serving the
   * workflow-events pattern and sharing its concurrency, as the orchestrator runs when it owns every
   * partition. `single`: the one `orchestrator` consumer of earlier versions.
   */
  consumers?: 'partitions' | 'single';
}

/** What one Troupe step run measured. */
export interface TroupeStepResult {
  events: number;
  workflows: number;
  concurrency: number;
  cacheSize: number;
  /** Start events (first KV `create` per workflow) per second. */
  startStepsPerSec: number;
  /**
   * Steps per second in the steady state: acks from the one 10 % into the bumps to the one 90 % in
   * (after the start steps; ramp-up and the tail of late partitions left out).
   */
  stepsPerSec: number;
  /** The window those steps took (ms). */
  elapsedMs: number;
  /** Bump steps per second from the `workflows`-th ack to the last, tail included. */
  stepsPerSecToLast: number;
  /** CPU per step over the same window as `stepsPerSec`, this process and nats-server (from /proc; null elsewhere). */
  cpu: CpuPerOp;
  /** Mean phase times under load (queueing included). */
  phasesLoaded: PhaseBreakdown;
  /** Publish → ack confirmed of single events at 1 in flight. */
  latency: LatencySummary | null;
  /** Mean phase times at 1 in flight. */
  phasesSerial: PhaseBreakdown | null;
  /** Sanity: what the runtime and the transport did (applied must be workflows + events + samples). */
  counters: { applied: number; duplicates: number; rejected: number; versionConflicts: number; outboxRepublished: number; naked: number; deadLettered: number };
  consumers: 'partitions' | 'single';
}

/** The workflow ids of run `runId`: `<runId>-w<i>`. */
export function benchWorkflowIds(runId: string, workflows: number): string[] {
  return Array.from({ length: workflows }, (_, i) => `${runId}-w${i}`);
}

/**
 * Durable actor steps end to end, as the orchestrator runs them: the real {@link ActorRuntime} over the
 * embedded stores (`createPersistence` → `KvSnapshotStore`, `StreamJournal`) and the orchestrator's
 * publisher (`publishEnvelope` with `msgId`), hosted by `JetStreamServer` in a minimal Nest
 * microservice on the orchestrator's consumers (one per partition, all owned here; see
 * `options.consumers`), which acks (`ack()`) after `handle` resolves. With `cacheSize` below
 * `workflows` the working set exceeds the actor cache, so most steps start with a store load (passivation).
 *
 * All events are published before the microservice starts: one start event per workflow, then
 * `events` bumps round-robin over the workflows (so events in flight belong to different workflows).
 * 1. Start steps/s: first ack to the `workflows`-th ack.
 * 2. Steps/s on a warm actor cache: acks from 10 % to 90 % of the way through the `events` that follow
 *    the `workflows`-th ack (and, tail included, the `workflows`-th ack to the last).
 * 3. `latencySamples` single bumps, each published only after the previous one was acked.
 *
 * The WF_EVENTS stream is purged and the orchestrator's consumers deleted first, so each run starts empty.
 */
export async function runTroupeSteps(nats: NatsConnection, options: TroupeStepOptions): Promise<TroupeStepResult> {
  await resetTroupeStreams(nats);
  const consumerMode = options.consumers ?? 'partitions';
  const js = nats.jetstream();
  const workflowIds = benchWorkflowIds(options.runId, options.workflows);
  const publish = (event: Envelope): Promise<unknown> => publishEnvelope(js, workflowEventSubject(event.workflowId), event, { msgId: event.id });
  const deadlineMs = (steps: number): number => 60_000 + steps * 10;

  // Every event goes into the stream before the consumer exists, so the producer does not compete
  // with the steps: the start events first, then the bumps round-robin over the workflows.
  const perWorkflow = Math.ceil(options.events / workflowIds.length);
  await pipelined(workflowIds.length, 256, (i) => publish(openedEvent(workflowIds[i])).then(() => undefined));
  await pipelined(options.events, 256, (i) =>
    publish(bumpedEvent(workflowIds[i % workflowIds.length], Math.floor(i / workflowIds.length) + 1)).then(() => undefined),
  );

  const host = await startTroupeHost(nats, {
    definitions: [benchWorkflow],
    concurrency: options.concurrency,
    cacheSize: options.cacheSize,
    ...(options.idleMs === undefined ? {} : { idleMs: options.idleMs }),
  });
  const { probe, runtime, server } = host;
  const failures = (): string => host.describe();
  const window = middleWindow(workflowIds.length, options.events);
  // Ack counts are 1-based; window indices 0-based.
  probe.sampleCpuAtAcks([window.from + 1, window.to + 1], options.serverPid);
  // As the orchestrator does once it holds the partitions' leases.
  await host.startWorkflowConsumers(consumerMode);

  // 1. Start steps: first ack to the ack that completes one per workflow.
  const startsDoneAt = await withTimeout(probe.acks(workflowIds.length), deadlineMs(workflowIds.length), `start steps (${failures()})`);
  const startStepsPerSec = perSecond(workflowIds.length - 1, startsDoneAt - probe.firstAckAt);
  probe.resetPhases();

  // 2. Bump steps on a warm actor cache, rated over the middle of the acks after the start steps (with
  // partition consumers a few start steps of slower partitions may still be among them).
  const total = workflowIds.length + options.events;
  const bumpsDoneAt = await withTimeout(probe.acks(total), deadlineMs(total), `bump steps (${failures()})`);
  const stepsPerSecToLast = perSecond(options.events, bumpsDoneAt - startsDoneAt);
  const { opsPerSec: stepsPerSec, elapsedMs } = windowRate(probe.ackTimes, window.from, window.to);
  const cpuFrom = probe.cpuAtAcks.get(window.from + 1);
  const cpuTo = probe.cpuAtAcks.get(window.to + 1);
  if (cpuFrom === undefined || cpuTo === undefined) throw new Error(`no CPU sample at acks ${window.from + 1} and ${window.to + 1}`);
  const windowSteps = window.to - window.from;
  const cpuSpent = { selfMs: cpuTo.selfMs - cpuFrom.selfMs, otherMs: cpuTo.otherMs === null || cpuFrom.otherMs === null ? null : cpuTo.otherMs - cpuFrom.otherMs };
  const phasesLoaded = probe.breakdown();

  // 3. Single events at 1 in flight.
  let latency: LatencySummary | null = null;
  let phasesSerial: PhaseBreakdown | null = null;
  if (options.latencySamples > 0) {
    probe.resetPhases();
    const samples: number[] = [];
    for (let i = 0; i < options.latencySamples; i += 1) {
      const event = bumpedEvent(workflowIds[i % workflowIds.length], perWorkflow + 1 + Math.floor(i / workflowIds.length));
      const acked = probe.ackOf(event.id);
      const sentAt = nowMs();
      await publish(event);
      samples.push((await withTimeout(acked, 10_000, `single step ${event.id} (${failures()})`)) - sentAt);
    }
    latency = summarise(samples);
    phasesSerial = probe.breakdown();
  }
  await host.close();

  const counters = { ...runtime.counters, naked: server.counters.naked, deadLettered: server.counters.deadLettered };
  const expectedApplied = workflowIds.length + options.events + options.latencySamples;
  if (counters.applied !== expectedApplied || counters.deadLettered > 0) {
    throw new Error(`Troupe step run ${options.runId} applied ${counters.applied} of ${expectedApplied} events (${failures()})`);
  }
  return {
    events: options.events,
    workflows: options.workflows,
    concurrency: options.concurrency,
    cacheSize: options.cacheSize,
    startStepsPerSec,
    stepsPerSec,
    elapsedMs,
    stepsPerSecToLast,
    cpu: {
      clientUsPerOp: (cpuSpent.selfMs * 1_000) / windowSteps,
      serverUsPerOp: cpuSpent.otherMs === null ? null : (cpuSpent.otherMs * 1_000) / windowSteps,
    },
    phasesLoaded,
    latency,
    phasesSerial,
    counters: {
      applied: counters.applied,
      duplicates: counters.duplicates,
      rejected: counters.rejected,
      versionConflicts: counters.versionConflicts,
      outboxRepublished: counters.outboxRepublished,
      naked: counters.naked,
      deadLettered: counters.deadLettered,
    },
    consumers: consumerMode,
  };
}
