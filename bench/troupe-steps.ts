import 'reflect-metadata';
import { Controller, Inject, Module, type DynamicModule } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { NatsConnection } from 'nats';
import { ActorRuntime, type HandleOutcome } from '@troupe/actor-runtime';
import { JetStreamContext, createJetStreamMicroservice, provisionStreams, publishEnvelope } from '@troupe/bus';
import {
  ALL_WORKFLOW_EVENTS,
  DEFAULT_PARTITION_COUNT,
  ORCHESTRATOR_CONSUMER,
  STREAMS,
  orchestratorPartitionConsumer,
  workflowEventSubject,
  type ConsumerDefinition,
  type Envelope,
} from '@troupe/contracts';
import { createPersistence } from '@troupe/persistence';
import { benchWorkflow, bumpedEvent, openedEvent } from './bench-workflow';
import { cpuSince, nowMs, perSecond, pipelined, sampleCpu, summarise, withTimeout, type LatencySummary } from './measure';
import type { CpuPerOp } from './raw-jetstream';
import { StepProbe, type PhaseBreakdown } from './step-probe';
import { applyWhatIf, NO_WHAT_IF, whatIfName, type WhatIf } from './what-if';

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
  whatIf?: WhatIf;
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
  variant: string;
  events: number;
  workflows: number;
  concurrency: number;
  /** Start events (first KV `create` per workflow) per second. */
  startStepsPerSec: number;
  /** Bump steps per second, first ack to last ack. */
  stepsPerSec: number;
  elapsedMs: number;
  /** CPU per bump step, this process and nats-server (from /proc; null elsewhere). */
  cpu: CpuPerOp;
  /** Mean phase times under load (queueing included). */
  phasesLoaded: PhaseBreakdown;
  /** Publish → ack confirmed of single events at 1 in flight. */
  latency: LatencySummary | null;
  /** Mean phase times at 1 in flight. */
  phasesSerial: PhaseBreakdown | null;
  /** Sanity: what the runtime and the transport did (applied must be workflows + events + samples). */
  counters: { applied: number; duplicates: number; rejected: number; versionConflicts: number; naked: number; deadLettered: number };
  consumers: 'partitions' | 'single';
}

/** The workflow ids of run `runId`: `<runId>-w<i>`. */
export function benchWorkflowIds(runId: string, workflows: number): string[] {
  return Array.from({ length: workflows }, (_, i) => `${runId}-w${i}`);
}

const BENCH_RUNTIME = Symbol('BENCH_RUNTIME');
const BENCH_PROBE = Symbol('BENCH_PROBE');

/** Feeds every workflow event into the runtime, as the orchestrator's controller does, with the probe tapped in. */
@Controller()
class BenchWorkflowEventsController {
  constructor(
    @Inject(BENCH_RUNTIME) private readonly runtime: ActorRuntime,
    @Inject(BENCH_PROBE) private readonly probe: StepProbe,
  ) {}

  @EventPattern(ALL_WORKFLOW_EVENTS)
  handle(@Payload() envelope: Envelope, @Ctx() context: JetStreamContext): Promise<HandleOutcome> {
    this.probe.received(envelope.workflowId, envelope.id, context.message);
    return this.runtime.handle(envelope);
  }
}

@Module({})
class BenchOrchestratorModule {
  static forRoot(runtime: ActorRuntime, probe: StepProbe): DynamicModule {
    return {
      module: BenchOrchestratorModule,
      controllers: [BenchWorkflowEventsController],
      providers: [
        { provide: BENCH_RUNTIME, useValue: runtime },
        { provide: BENCH_PROBE, useValue: probe },
      ],
    };
  }
}

/**
 * Durable actor steps end to end, as the orchestrator runs them: the real {@link ActorRuntime} over the
 * embedded stores (`createPersistence` → `KvSnapshotStore`, `StreamJournal`) and the orchestrator's
 * publisher (`publishEnvelope` with `msgId`), hosted by `JetStreamServer` in a minimal Nest
 * microservice on the orchestrator's consumers (one per partition, all owned here; see
 * `options.consumers`), which acks (`ackAck`) after `handle` resolves.
 *
 * All events are published before the microservice starts: one start event per workflow, then
 * `events` bumps round-robin over the workflows (so events in flight belong to different workflows).
 * 1. Start steps/s: first ack to the `workflows`-th ack.
 * 2. Steps/s on a warm actor cache: the `workflows`-th ack to the last, i.e. the last `events` acks.
 * 3. `latencySamples` single bumps, each published only after the previous one was acked.
 *
 * The WF_EVENTS stream is purged and the orchestrator's consumers deleted first, so each run starts empty.
 */
export async function runTroupeSteps(nats: NatsConnection, options: TroupeStepOptions): Promise<TroupeStepResult> {
  const jsm = await nats.jetstreamManager();
  await provisionStreams(jsm);
  const partitionConsumers = Array.from({ length: DEFAULT_PARTITION_COUNT }, (_, partition) => orchestratorPartitionConsumer(partition));
  for (const consumer of [ORCHESTRATOR_CONSUMER, ...partitionConsumers]) {
    await jsm.consumers.delete(consumer.stream, consumer.durable).catch(() => undefined);
  }
  await jsm.streams.purge(STREAMS.workflowEvents.name);
  const consumerMode = options.consumers ?? 'partitions';
  const consumers: ConsumerDefinition[] = consumerMode === 'single' ? [ORCHESTRATOR_CONSUMER] : partitionConsumers;

  const js = nats.jetstream();
  const persistence = await createPersistence({ nats });
  const whatIf = options.whatIf ?? NO_WHAT_IF;
  const probe = new StepProbe(whatIf.fireAndForgetAck);
  const deps = applyWhatIf(
    {
      store: persistence.snapshots,
      journal: persistence.journal,
      publish: async (message) => {
        await publishEnvelope(js, message.subject, message.envelope, { msgId: message.id });
      },
    },
    whatIf,
  );
  const runtime = new ActorRuntime({
    definitions: [benchWorkflow],
    store: probe.wrapStore(deps.store),
    journal: probe.wrapJournal(deps.journal),
    publish: probe.wrapPublisher(deps.publish),
    cacheSize: options.cacheSize,
  });
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

  const { app, server } = await createJetStreamMicroservice(BenchOrchestratorModule.forRoot(runtime, probe), {
    connection: nats,
    consumers: [],
    concurrency: options.concurrency,
    logger: ['error', 'warn'],
  });
  const failures = (): string => `runtime ${JSON.stringify(runtime.counters)}, transport ${JSON.stringify(server.counters)}`;
  await app.listen();
  // As the orchestrator does once it holds the partitions' leases.
  for (const consumer of consumers) await server.startConsumer(consumer, { pattern: ALL_WORKFLOW_EVENTS });

  // 1. Start steps: first ack to the ack that completes one per workflow.
  const startsDoneAt = await withTimeout(probe.acks(workflowIds.length), deadlineMs(workflowIds.length), `start steps (${failures()})`);
  const startStepsPerSec = perSecond(workflowIds.length - 1, startsDoneAt - probe.firstAckAt);
  probe.resetPhases();
  const cpuAtStart = sampleCpu(options.serverPid);

  // 2. The last `events` acks: bump steps on a warm actor cache (with partition consumers a few start
  // steps of slower partitions may still be among them, and as many bumps fell before).
  const total = workflowIds.length + options.events;
  const bumpsDoneAt = await withTimeout(probe.acks(total), deadlineMs(total), `bump steps (${failures()})`);
  const elapsedMs = bumpsDoneAt - startsDoneAt;
  const stepsPerSec = perSecond(options.events, elapsedMs);
  const cpuSpent = cpuSince(cpuAtStart, options.serverPid);
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
  await app.close();
  await persistence.close();

  const counters = { ...runtime.counters, naked: server.counters.naked, deadLettered: server.counters.deadLettered };
  const expectedApplied = workflowIds.length + options.events + options.latencySamples;
  if (counters.applied !== expectedApplied || counters.deadLettered > 0) {
    throw new Error(`Troupe step run ${options.runId} applied ${counters.applied} of ${expectedApplied} events (${failures()})`);
  }
  return {
    variant: whatIfName(whatIf),
    events: options.events,
    workflows: options.workflows,
    concurrency: options.concurrency,
    startStepsPerSec,
    stepsPerSec,
    elapsedMs,
    cpu: {
      clientUsPerOp: (cpuSpent.selfMs * 1_000) / options.events,
      serverUsPerOp: cpuSpent.otherMs === null ? null : (cpuSpent.otherMs * 1_000) / options.events,
    },
    phasesLoaded,
    latency,
    phasesSerial,
    counters: {
      applied: counters.applied,
      duplicates: counters.duplicates,
      rejected: counters.rejected,
      versionConflicts: counters.versionConflicts,
      naked: counters.naked,
      deadLettered: counters.deadLettered,
    },
    consumers: consumerMode,
  };
}
