import './instrumentation';
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Logger } from '@nestjs/common';
import { ActorRuntime } from '@troupe/actor-runtime';
import { reactLoopWorkflow, supervisorRoutingWorkflow } from '@troupe/agent-kit';
import {
  AckedPublisher,
  PartitionLeaseManager,
  connectToNats,
  natsSettingsFromEnvironment,
  createJetStreamMicroservice,
  provisionReplacementConsumers,
  provisionStreams,
  publishEnvelope,
  runApp,
  shutdownOnSignal,
} from '@troupe/bus';
import {
  ALL_WORKFLOW_EVENTS,
  DEFAULT_PARTITION_COUNT,
  EMAIL_CLASSIFIED,
  EMAIL_SUMMARISED,
  EmailClassified,
  EmailSummarised,
  ORCHESTRATOR_CONSUMER,
  REPLY_DRAFTED,
  ReplyDrafted,
  TIMER_CONSUMER,
  logLevelsFrom,
  orchestratorPartitionConsumer,
  parseEnvironment,
} from '@troupe/contracts';
import { createPersistence } from '@troupe/persistence';
import { OrchestratorEnvironment } from './config';
import { OrchestratorModule } from './orchestrator.module';
import { startScheduler } from './schedules/start-scheduler';
import { CLAIM_PROCESSING_YAML_PATH, claimProcessingWorkflow, declaredClaimProcessing } from './workflows/claim-processing.workflow';
import { emailTriageWorkflows } from './workflows/email-triage.workflow';
import { incidentResponseWorkflow } from './workflows/incident-response.workflow';

/**
 * Boots the orchestrator: hosts workflow actors on the WF_EVENTS stream, consuming only the partitions
 * this replica holds a lease on (one durable consumer `orchestrator-p<n>` per partition).
 */
async function bootstrap(): Promise<void> {
  const env = parseEnvironment(OrchestratorEnvironment);
  const log = new Logger('orchestrator');
  const nats = await connectToNats(natsSettingsFromEnvironment(env, 'troupe-orchestrator'));
  const jsm = await nats.jetstreamManager();
  if (env.TROUPE_PROVISION_STREAMS) await provisionStreams(jsm, undefined, { replicas: env.TROUPE_STREAM_REPLICAS });
  // One consumer per partition replaces the single `orchestrator` consumer of earlier versions.
  const partitionConsumers = Array.from({ length: DEFAULT_PARTITION_COUNT }, (_, partition) => orchestratorPartitionConsumer(partition));
  if (await provisionReplacementConsumers(jsm, partitionConsumers, ORCHESTRATOR_CONSUMER)) {
    log.log(`replaced consumer ${ORCHESTRATOR_CONSUMER.durable} by ${partitionConsumers.length} partition consumers`);
  }
  // Saves, journal appends and the outbox publish through one AckedPublisher (no NatsError per publish).
  const publisher = new AckedPublisher(nats);
  const persistence = await createPersistence({ nats, mongoUri: env.MONGODB_URI, mongoDbName: env.MONGODB_DB, publisher });
  const js = nats.jetstream();
  const declaredClaims = env.TROUPE_CLAIM_DEFINITION === 'declared' ? declaredClaimProcessing(env.TROUPE_CLAIM_DEFINITION_FILE) : undefined;
  if (declaredClaims !== undefined) log.log(`claim-processing: hosting the declared form (${env.TROUPE_CLAIM_DEFINITION_FILE ?? CLAIM_PROCESSING_YAML_PATH})`);
  const runtime = new ActorRuntime({
    definitions: [
      // Every triage version with running instances (v3 until they finish or are migrated; v4 for new ones).
      ...emailTriageWorkflows({
        confidenceThreshold: env.TROUPE_CONFIDENCE_THRESHOLD,
        approvalTimeoutMs: env.TROUPE_APPROVAL_TIMEOUT_MS,
        escalationTimeoutMs: env.TROUPE_ESCALATION_TIMEOUT_MS,
      }),
      // Agent runs are actors of the same runtime (DESIGN.md "Agents"): same partitions, leases, timers, journal.
      reactLoopWorkflow(),
      // The supervisor's routing and fan-outs, with the answers of the triage specialists it can join.
      supervisorRoutingWorkflow({ [EMAIL_CLASSIFIED]: EmailClassified, [EMAIL_SUMMARISED]: EmailSummarised, [REPLY_DRAFTED]: ReplyDrafted }),
      incidentResponseWorkflow({ approvalTimeoutMs: env.TROUPE_APPROVAL_TIMEOUT_MS, escalationTimeoutMs: env.TROUPE_ESCALATION_TIMEOUT_MS }),
      claimProcessingWorkflow(
        {
          reviewThresholdUsd: env.TROUPE_CLAIM_REVIEW_THRESHOLD_USD,
          reviewTimeoutMs: env.TROUPE_CLAIM_REVIEW_TIMEOUT_MS,
          escalationTimeoutMs: env.TROUPE_CLAIM_ESCALATION_TIMEOUT_MS,
        },
        declaredClaims,
      ),
    ],
    store: persistence.snapshots,
    journal: persistence.journal,
    publish: async (message) => {
      await publishEnvelope(publisher, message.subject, message.envelope, { msgId: message.id });
    },
    cacheSize: env.TROUPE_ACTOR_CACHE_SIZE,
    idleMs: env.TROUPE_ACTOR_IDLE_MS,
  });
  const { app, server } = await createJetStreamMicroservice(OrchestratorModule.forRoot(runtime, { js, now: () => new Date() }), {
    connection: nats,
    consumers: [TIMER_CONSUMER],
    concurrency: env.TROUPE_ORCHESTRATOR_CONCURRENCY,
    logger: logLevelsFrom(env.TROUPE_LOG_LEVEL),
  });
  await app.listen();
  const partitions = new PartitionLeaseManager({
    nats,
    ownerId: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
    partitionCount: DEFAULT_PARTITION_COUNT,
    leaseTtlMs: env.TROUPE_PARTITION_LEASE_TTL_MS,
    onAcquired: async (partition) => {
      await server.startConsumer(orchestratorPartitionConsumer(partition), {
        pattern: ALL_WORKFLOW_EVENTS,
        // Poison workflow events of every partition go to troupe.dlq.orchestrator, as before partitions.
        deadLetterOrigin: ORCHESTRATOR_CONSUMER.durable,
      });
      log.log(`partition ${partition} acquired; owning [${partitions.owned().join(',')}]`);
    },
    onLost: async (partition, reason) => {
      log.log(`partition ${partition} ${reason === 'released' ? 'released' : `lost (${reason})`}; owning [${partitions.owned().join(',')}]`);
      await server.stopConsumer(orchestratorPartitionConsumer(partition).durable);
      runtime.evictPartition(partition, DEFAULT_PARTITION_COUNT);
    },
  });
  await partitions.start();
  const scheduler = await startScheduler(nats, partitions.ownerId);
  log.log(`ready (store: ${persistence.kind}, NATS: ${env.NATS_URL}, owner ${partitions.ownerId}, partitions [${partitions.owned().join(',')}])`);
  // Hand the partitions over first (each stops being consumed, then its lease is deleted), so the
  // other replicas take them on their next round instead of after the lease TTL.
  shutdownOnSignal('orchestrator', [
    async () => scheduler?.stop(),
    () => partitions.stop(),
    () => app.close(),
    () => persistence.close(),
    () => nats.drain(),
  ]);
}

runApp('orchestrator', bootstrap);
