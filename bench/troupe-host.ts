import 'reflect-metadata';
import { Controller, Inject, Module, type DynamicModule, type INestMicroservice, type Type } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { JetStreamClient, NatsConnection } from 'nats';
import { ActorRuntime, type HandleOutcome, type WorkflowDefinition } from '@troupe/actor-runtime';
import { AckedPublisher, JetStreamContext, createJetStreamMicroservice, provisionStreams, publishEnvelope, type JetStreamServer } from '@troupe/bus';
import {
  ALL_WORKFLOW_EVENTS,
  DEFAULT_PARTITION_COUNT,
  ORCHESTRATOR_CONSUMER,
  STREAMS,
  orchestratorPartitionConsumer,
  type ConsumerDefinition,
  type Envelope,
} from '@troupe/contracts';
import { createPersistence, type Persistence } from '@troupe/persistence';
import { StepProbe } from './step-probe';

/** Injection tokens of the bench's Nest module. */
export const BENCH_RUNTIME = Symbol('BENCH_RUNTIME');
export const BENCH_PROBE = Symbol('BENCH_PROBE');
export const BENCH_JETSTREAM = Symbol('BENCH_JETSTREAM');

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
class BenchHostModule {
  static forRoot(runtime: ActorRuntime, probe: StepProbe, js: JetStreamClient, controllers: Type[]): DynamicModule {
    return {
      module: BenchHostModule,
      controllers: [BenchWorkflowEventsController, ...controllers],
      providers: [
        { provide: BENCH_RUNTIME, useValue: runtime },
        { provide: BENCH_PROBE, useValue: probe },
        { provide: BENCH_JETSTREAM, useValue: js },
      ],
    };
  }
}

/** How a bench run hosts Troupe. */
export interface TroupeHostOptions {
  definitions: WorkflowDefinition[];
  /** Handler calls in flight per pattern (`JetStreamServer` concurrency; the orchestrator's default is 64). */
  concurrency: number;
  /** Actors the runtime keeps in memory (the orchestrator's default is 10,000). */
  cacheSize: number;
  /** Runtime `idleMs` (default: the runtime's, 300,000). */
  idleMs?: number;
  /** Extra controllers in the same Nest microservice (e.g. the ReAct bench agent); they may inject {@link BENCH_JETSTREAM}. */
  controllers?: Type[];
  /** Consumers started at `listen()` for the extra controllers (e.g. the agent's work queue). */
  consumers?: ConsumerDefinition[];
}

/** A running Troupe host: the runtime, its probe and its transport. Start consuming with `startWorkflowConsumers`. */
export interface TroupeHost {
  runtime: ActorRuntime;
  probe: StepProbe;
  app: INestMicroservice;
  server: JetStreamServer;
  persistence: Persistence;
  js: JetStreamClient;
  /** Starts the workflow-event consumers: one per partition (as the orchestrator once it holds every lease) or the single one. */
  startWorkflowConsumers(mode: 'partitions' | 'single'): Promise<void>;
  /** Counters of the runtime and the transport, for error messages. */
  describe(): string;
  close(): Promise<void>;
}

/** The partition consumers of the orchestrator (`orchestrator-p0` … `-p15`). */
export const PARTITION_CONSUMERS: ConsumerDefinition[] = Array.from({ length: DEFAULT_PARTITION_COUNT }, (_, partition) => orchestratorPartitionConsumer(partition));

/**
 * Deletes the orchestrator's consumers and empties WF_EVENTS (and the other Troupe streams a run
 * writes to), so a run starts with nothing pending. The KV records of earlier runs stay; each run uses
 * fresh workflow ids.
 */
export async function resetTroupeStreams(nats: NatsConnection, extraConsumers: ConsumerDefinition[] = []): Promise<void> {
  const jsm = await nats.jetstreamManager();
  await provisionStreams(jsm);
  for (const consumer of [ORCHESTRATOR_CONSUMER, ...PARTITION_CONSUMERS, ...extraConsumers]) {
    await jsm.consumers.delete(consumer.stream, consumer.durable).catch(() => undefined);
  }
  for (const stream of [STREAMS.workflowEvents, STREAMS.agentTasks, STREAMS.workflowChanges, STREAMS.journal, STREAMS.approvals]) {
    if (stream !== undefined) await jsm.streams.purge(stream.name).catch(() => undefined);
  }
}

/**
 * Hosts Troupe as the orchestrator does: the real {@link ActorRuntime} over the embedded stores
 * (`createPersistence` → `KvSnapshotStore`, `StreamJournal`) and the orchestrator's publisher
 * (`publishEnvelope` with `msgId`), in a minimal Nest microservice on `JetStreamServer`, with a
 * {@link StepProbe} around the store, journal, publisher and each workflow event's ack.
 */
export async function startTroupeHost(nats: NatsConnection, options: TroupeHostOptions): Promise<TroupeHost> {
  const js = nats.jetstream();
  // As the orchestrator publishes: no NatsError built per acked publish (see AckedPublisher).
  const publisher = new AckedPublisher(nats);
  const persistence = await createPersistence({ nats, publisher });
  const probe = new StepProbe();
  const runtime = new ActorRuntime({
    definitions: options.definitions,
    store: probe.wrapStore(persistence.snapshots),
    journal: probe.wrapJournal(persistence.journal),
    publish: probe.wrapPublisher(async (message) => {
      await publishEnvelope(publisher, message.subject, message.envelope, { msgId: message.id });
    }),
    cacheSize: options.cacheSize,
    ...(options.idleMs === undefined ? {} : { idleMs: options.idleMs }),
  });
  const { app, server } = await createJetStreamMicroservice(BenchHostModule.forRoot(runtime, probe, js, options.controllers ?? []), {
    connection: nats,
    consumers: options.consumers ?? [],
    concurrency: options.concurrency,
    logger: ['error', 'warn'],
  });
  await app.listen();
  return {
    runtime,
    probe,
    app,
    server,
    persistence,
    js,
    async startWorkflowConsumers(mode) {
      for (const consumer of mode === 'single' ? [ORCHESTRATOR_CONSUMER] : PARTITION_CONSUMERS) {
        await server.startConsumer(consumer, { pattern: ALL_WORKFLOW_EVENTS });
      }
    },
    describe: () => `runtime ${JSON.stringify(runtime.counters)}, transport ${JSON.stringify(server.counters)}`,
    async close() {
      await app.close();
      await persistence.close();
      publisher.close();
    },
  };
}
