import { Command, InvalidArgumentError } from 'commander';
import { migrateWorkflows, migrationKey, type WorkflowMigration } from '@troupe/actor-runtime';
import { connectToNats, natsSettingsFromEnvironment, provisionStreams } from '@troupe/bus';
import { BaseEnvironment, STREAMS, parseEnvironment } from '@troupe/contracts';
import { JOURNAL_ARCHIVE_COLLECTION, applyJournalRetention, createPersistence, type Persistence } from '@troupe/persistence';
import { HISTORY_DEFINITIONS } from './history.definitions';
import { HISTORY_MIGRATIONS } from './history.migrations';

/**
 * Operators' history operations, run explicitly and printing their report as JSON on stdout:
 *
 *   node -r ./tools/register.cjs apps/gateway/src/history/history.cli.ts migrate --type T --from 1 --to 2 [--limit N] [--cursor C] [--dry-run]
 *   node -r ./tools/register.cjs apps/gateway/src/history/history.cli.ts retain --older-than-days 30 --mode archive|delete [--limit N] [--cursor C] [--dry-run]
 *
 * Both are resumable: a report's `nextCursor` is the `--cursor` of the next run, and running again
 * repeats nothing already done. Uses `NATS_URL` / `MONGODB_URI` like the apps. Exit code 0 when the
 * run completed (refusals and skips are reported, not failures), 1 on an error.
 */
function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new InvalidArgumentError('must be a positive integer');
  return parsed;
}

async function withPersistence<T>(work: (persistence: Persistence) => Promise<T>): Promise<T> {
  const env = parseEnvironment(BaseEnvironment);
  const nats = await connectToNats(natsSettingsFromEnvironment(env, 'troupe-history-cli'));
  try {
    if (env.TROUPE_PROVISION_STREAMS) await provisionStreams(await nats.jetstreamManager(), undefined, { replicas: env.TROUPE_STREAM_REPLICAS });
    const persistence = await createPersistence({ nats, mongoUri: env.MONGODB_URI, mongoDbName: env.MONGODB_DB });
    try {
      return await work(persistence);
    } finally {
      await persistence.close();
    }
  } finally {
    await nats.drain();
  }
}

const program = new Command('troupe-history').description('Migrate running workflows between machine versions; apply journal retention.');

program
  .command('migrate')
  .description('move running instances to the next machine version by a declared migration')
  .requiredOption('--type <workflowType>', 'workflow type')
  .requiredOption('--from <version>', 'machine version to move from')
  .requiredOption('--to <version>', 'machine version to move to')
  .option('--limit <n>', 'instances to examine in this run', positiveInteger, 1_000)
  .option('--cursor <cursor>', 'nextCursor of a previous run')
  .option('--dry-run', 'report only, write nothing', false)
  .action(async (options: { type: string; from: string; to: string; limit: number; cursor?: string; dryRun: boolean }) => {
    const wanted = migrationKey({ workflowType: options.type, fromVersion: options.from, toVersion: options.to });
    const migration: WorkflowMigration | undefined = HISTORY_MIGRATIONS.find((m) => migrationKey(m) === wanted);
    if (migration === undefined) {
      const declared = HISTORY_MIGRATIONS.map(migrationKey).join(', ') || 'none';
      throw new Error(`no migration ${wanted} is declared in history.migrations.ts (declared: ${declared})`);
    }
    const report = await withPersistence((persistence) =>
      migrateWorkflows({ store: persistence.snapshots, journal: persistence.journal, migration, definitions: HISTORY_DEFINITIONS, now: () => new Date(), ...options }),
    );
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    process.stderr.write(`${report.migration}: moved ${report.moved.length}, refused ${report.refused.length}, conflicts ${report.conflicts.length}, next cursor ${report.nextCursor ?? 'none'}\n`);
  });

program
  .command('retain')
  .description("archive or delete the journals of workflows finished longer ago than the policy's age")
  .requiredOption('--older-than-days <days>', 'age since the last update', positiveInteger)
  .requiredOption('--mode <mode>', 'archive | delete')
  .option('--limit <n>', 'workflows to examine in this run', positiveInteger, 1_000)
  .option('--cursor <cursor>', 'nextCursor of a previous run')
  .option('--dry-run', 'report only, change nothing', false)
  .action(async (options: { olderThanDays: number; mode: string; limit: number; cursor?: string; dryRun: boolean }) => {
    if (options.mode !== 'archive' && options.mode !== 'delete') throw new Error(`--mode must be archive or delete, is ${options.mode}`);
    const mode = options.mode;
    const report = await withPersistence((persistence) =>
      applyJournalRetention({
        store: persistence.snapshots,
        journal: persistence.journal,
        archive: persistence.journalArchive,
        archiveName: persistence.kind === 'mongodb' ? JOURNAL_ARCHIVE_COLLECTION : STREAMS.journalArchive.name,
        policy: { olderThanMs: options.olderThanDays * 86_400_000, mode },
        now: () => new Date(),
        limit: options.limit,
        cursor: options.cursor,
        dryRun: options.dryRun,
      }),
    );
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    process.stderr.write(`${report.policy}: archived ${report.archived.length}, deleted ${report.deleted.length}, skipped ${report.skipped.length}, next cursor ${report.nextCursor ?? 'none'}\n`);
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`troupe-history: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
