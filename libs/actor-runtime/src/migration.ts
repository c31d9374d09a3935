import type { AnyMachineSnapshot } from 'xstate';
import { WORKFLOW_MIGRATED, type JournalEntry, type StateValue, type WorkflowStatus } from '@troupe/contracts';
import { VersionConflictError, type Journal, type SnapshotStore, type WorkflowRecord } from '@troupe/persistence';
import { definitionKey } from './definition-registry';
import { ActorRuntimeError } from './errors';
import type { ReplayDefinition } from './replay';
import { snapshotDigest } from './snapshot-digest';
import { statePaths } from './state-paths';

/**
 * A declared move of running instances of `workflowType` from `fromVersion` to `toVersion`: where each
 * state goes, and how the context changes shape. Both functions are pure.
 */
export interface WorkflowMigration {
  workflowType: string;
  fromVersion: string;
  toVersion: string;
  /**
   * The state value in `toVersion` of an instance at `stateValue` in `fromVersion`, or a string: why
   * an instance in that state cannot move (it is refused and stays on `fromVersion`).
   */
  mapState(stateValue: StateValue, context: unknown): { stateValue: StateValue } | { refuse: string };
  /** The context in `toVersion`. May throw: the instance is then refused with the error's message. */
  mapContext(context: unknown, stateValue: StateValue): unknown;
}

/** `<workflowType>@<fromVersion>-><toVersion>`: how a migration is named in reports and journal entries. */
export function migrationKey(migration: Pick<WorkflowMigration, 'workflowType' | 'fromVersion' | 'toVersion'>): string {
  return `${migration.workflowType}@${migration.fromVersion}->${migration.toVersion}`;
}

/** Options of {@link migrateWorkflows}. */
export interface MigrateWorkflowsOptions {
  store: SnapshotStore;
  journal: Journal;
  migration: WorkflowMigration;
  /** Must hold `<workflowType>@<toVersion>` (its machine checks every mapped snapshot; its tags fill the read model). */
  definitions: readonly ReplayDefinition[];
  now: () => Date;
  /** Instances to examine in this call, 1–10,000 (default 1,000); resume with the report's `nextCursor`. */
  limit?: number;
  /** `nextCursor` of a previous report: examine only instances after it. */
  cursor?: string;
  /** Report what would move and what would be refused, and write nothing. */
  dryRun?: boolean;
}

/** What one {@link migrateWorkflows} call did. */
export interface MigrationReport {
  migration: string;
  dryRun: boolean;
  /** Instances now on `toVersion` (in a dry run: that would be), with their version before and after. */
  moved: Array<{ workflowId: string; fromStateValue: StateValue; stateValue: StateValue; version: number }>;
  /** Instances left on `fromVersion`, and why. Running the migration again reports them again. */
  refused: Array<{ workflowId: string; stateValue: StateValue; reason: string }>;
  /** Instances another writer changed while they were being moved; left as they are, run again to retry. */
  conflicts: Array<{ workflowId: string; reason: string }>;
  /** Pass as `cursor` to examine the rest; null when every instance was examined. */
  nextCursor: string | null;
}

/** No definition `<workflowType>@<toVersion>` to migrate to. Not retryable. */
export class MigrationTargetMissingError extends ActorRuntimeError {
  constructor(key: string) {
    super('MIGRATION_TARGET_MISSING', `no workflow definition ${key} to migrate to`, { retryable: false });
  }
}

const PAGE_SIZE = 100;

/**
 * Moves the running (`status: active`) instances of `migration.workflowType` on `migration.fromVersion`
 * to `migration.toVersion`, one at a time: maps the state and context, checks the result resolves in
 * the target machine, and writes the record with the version precondition (version + 1,
 * `machineVersion` = `toVersion`), with a `workflow.migrated` journal entry that carries the new
 * snapshot and its digest (so replay crosses the migration from the journal alone). The record's
 * unpublished outbox, pending journal entries and timers are kept as they were.
 *
 * Resumable and safe to repeat: instances already moved no longer match, refused ones are reported
 * again, and a lost version race (the orchestrator applied an event meanwhile) is reported as a
 * conflict and left untouched. The orchestrator picks the definition by each record's `machineVersion`,
 * so a moved instance continues on the new machine at its next event.
 *
 * @throws MigrationTargetMissingError when `definitions` lacks the target; store and journal errors.
 */
export async function migrateWorkflows(options: MigrateWorkflowsOptions): Promise<MigrationReport> {
  const { migration, store } = options;
  const target = options.definitions.find((d) => d.workflowType === migration.workflowType && d.machineVersion === migration.toVersion);
  if (target === undefined) throw new MigrationTargetMissingError(definitionKey(migration.workflowType, migration.toVersion));
  const limit = Math.min(10_000, Math.max(1, Math.trunc(options.limit ?? 1_000)));
  const report: MigrationReport = { migration: migrationKey(migration), dryRun: options.dryRun === true, moved: [], refused: [], conflicts: [], nextCursor: null };
  let cursor = options.cursor;
  let examined = 0;
  for (;;) {
    const page = await store.list({
      workflowType: migration.workflowType,
      machineVersion: migration.fromVersion,
      status: 'active',
      limit: Math.min(PAGE_SIZE, limit - examined),
      cursor,
    });
    for (const record of page.items) {
      examined += 1;
      await migrateOne(record, target, options, report);
    }
    cursor = page.nextCursor ?? undefined;
    if (page.nextCursor === null) return report;
    if (examined >= limit) {
      report.nextCursor = page.nextCursor;
      return report;
    }
  }
}

async function migrateOne(record: WorkflowRecord, target: ReplayDefinition, options: MigrateWorkflowsOptions, report: MigrationReport): Promise<void> {
  const { migration } = options;
  const persisted = record.snapshot as { context?: unknown; value?: unknown };
  const context = persisted.context;
  const mapped = migration.mapState(record.stateValue, context);
  if ('refuse' in mapped) {
    report.refused.push({ workflowId: record.workflowId, stateValue: record.stateValue, reason: mapped.refuse });
    return;
  }
  let next: AnyMachineSnapshot;
  try {
    const nextContext = migration.mapContext(context, record.stateValue);
    next = target.machine.resolveState({ ...(record.snapshot as object), value: mapped.stateValue, context: nextContext } as never) as AnyMachineSnapshot;
  } catch (error) {
    report.refused.push({ workflowId: record.workflowId, stateValue: record.stateValue, reason: `does not resolve in ${definitionKey(target.workflowType, target.machineVersion)}: ${(error as Error).message}` });
    return;
  }
  const stateValue = next.value as StateValue;
  if (options.dryRun === true) {
    report.moved.push({ workflowId: record.workflowId, fromStateValue: record.stateValue, stateValue, version: record.version });
    return;
  }
  const at = options.now().toISOString();
  const version = record.version + 1;
  const snapshot = target.machine.getPersistedSnapshot(next);
  const status = next.status as WorkflowStatus;
  const eventId = `${record.workflowId}:${version}:migrated`;
  const entry: JournalEntry = {
    workflowId: record.workflowId,
    workflowType: record.workflowType,
    seq: version,
    eventId,
    eventType: WORKFLOW_MIGRATED,
    event: {
      id: eventId,
      type: WORKFLOW_MIGRATED,
      workflowId: record.workflowId,
      payload: { migration: migrationKey(migration), fromVersion: migration.fromVersion, toVersion: migration.toVersion },
    },
    fromStateValue: record.stateValue,
    stateValue,
    status,
    effects: [],
    rejection: null,
    appliedAt: at,
    traceId: record.traceId,
    machineVersion: migration.toVersion,
    snapshotDigest: snapshotDigest(snapshot),
    snapshot: JSON.parse(JSON.stringify(snapshot)) as unknown,
  };
  const migrated: WorkflowRecord = {
    ...record,
    machineVersion: migration.toVersion,
    version,
    snapshot,
    status,
    stateValue,
    statePaths: statePaths(stateValue),
    tags: target.tags === undefined ? record.tags : target.tags(next as never),
    appliedEventIds: [...record.appliedEventIds, eventId].slice(-256),
    pendingJournal: [...record.pendingJournal, entry],
    pendingApproval: next.hasTag('approval') ? record.pendingApproval : null,
    updatedAt: at,
  };
  try {
    await options.store.save(migrated, record.version);
  } catch (error) {
    if (!(error instanceof VersionConflictError)) throw error;
    report.conflicts.push({ workflowId: record.workflowId, reason: error.message });
    return;
  }
  for (const pending of migrated.pendingJournal) await options.journal.append(pending);
  report.moved.push({ workflowId: record.workflowId, fromStateValue: record.stateValue, stateValue, version });
}
