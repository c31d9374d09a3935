/**
 * One orchestrator replica for the scaling curve (bench/replicas.ts spawns 1 to 3 of them): the bench
 * counter workflow on the real runtime and transport, consuming only the partitions this process holds
 * a lease on, as apps/orchestrator does (`PartitionLeaseManager`, one consumer `orchestrator-p<n>` per
 * owned partition, evicting a lost partition's actors). One difference, for a clean measurement: it
 * starts consuming its partitions only after the bench says go (a core message on `goSubject`), once
 * every replica holds its fair share, so no partition moves during the timed run.
 *
 * Prints `ready` on stdout once its lease manager started; answers a request on `reportSubject` with a
 * {@link ReplicaReport}; stops on SIGTERM (releasing its leases).
 *
 * Usage: node -r ./tools/register.cjs bench/replica-child.ts <natsUrl> '<ReplicaChildOptions as JSON>'
 */
import 'reflect-metadata';
import { PartitionLeaseManager, connectToNats } from '@troupe/bus';
import { ALL_WORKFLOW_EVENTS, DEFAULT_PARTITION_COUNT, ORCHESTRATOR_CONSUMER, orchestratorPartitionConsumer } from '@troupe/contracts';
import { benchWorkflow } from './bench-workflow';
import { startTroupeHost } from './troupe-host';

export interface ReplicaChildOptions {
  ownerId: string;
  concurrency: number;
  cacheSize: number;
  leaseTtlMs: number;
  goSubject: string;
  reportSubject: string;
}

/** What a replica did, asked for at the end of a run. */
export interface ReplicaReport {
  ownerId: string;
  owned: number[];
  applied: number;
  /** CPU time (user + system) of this replica since the go message, ms. */
  cpuMs: number;
}

async function main(): Promise<void> {
  const [url, optionsJson] = process.argv.slice(2);
  const options = JSON.parse(optionsJson) as ReplicaChildOptions;
  const nats = await connectToNats({ servers: url, name: `troupe-bench-replica-${options.ownerId}` });
  const host = await startTroupeHost(nats, { definitions: [benchWorkflow], concurrency: options.concurrency, cacheSize: options.cacheSize });
  let go = false;
  let cpuAtGo = 0;
  const cpuMs = (): number => {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1_000;
  };
  const start = (partition: number) =>
    host.server.startConsumer(orchestratorPartitionConsumer(partition), { pattern: ALL_WORKFLOW_EVENTS, deadLetterOrigin: ORCHESTRATOR_CONSUMER.durable });
  const partitions = new PartitionLeaseManager({
    nats,
    ownerId: options.ownerId,
    partitionCount: DEFAULT_PARTITION_COUNT,
    leaseTtlMs: options.leaseTtlMs,
    onAcquired: async (partition) => {
      if (go) await start(partition);
    },
    onLost: async (partition) => {
      await host.server.stopConsumer(orchestratorPartitionConsumer(partition).durable);
      host.runtime.evictPartition(partition, DEFAULT_PARTITION_COUNT);
    },
  });
  nats.subscribe(options.goSubject, {
    callback: () => {
      go = true;
      cpuAtGo = cpuMs();
      void Promise.all(partitions.owned().map(start)).catch((error: unknown) => process.stderr.write(`start: ${String(error)}\n`));
    },
  });
  nats.subscribe(options.reportSubject, {
    callback: (_error, message) => {
      const report: ReplicaReport = { ownerId: options.ownerId, owned: partitions.owned(), applied: host.runtime.counters.applied, cpuMs: cpuMs() - cpuAtGo };
      message.respond(new TextEncoder().encode(JSON.stringify(report)));
    },
  });
  await partitions.start();
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => {
    void (async () => {
      await partitions.stop();
      await host.close();
      await nats.close();
      process.exit(0);
    })();
  });
}

void main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
