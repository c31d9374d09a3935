import {
  TIMER_SCHEDULED,
  partitionOf,
  timerSubject,
  type Envelope,
  type JournalEntry,
  type TimerScheduled,
} from '@troupe/contracts';
import type { ActiveTimer, Journal, OutboxMessage, SnapshotStore, WorkflowRecord } from '@troupe/persistence';
import { ReplayError } from './errors';
import { replayJournal, type ReplayDefinition, type ReplayResult } from './replay';
import { statePaths } from './state-paths';

/** What {@link planFork} needs. */
export interface ForkRequest {
  /** The source workflow's journal (seq 1..n). */
  sourceEntries: readonly JournalEntry[];
  /** The step of the source to fork from (1..n). */
  step: number;
  /** Id of the new workflow; must not exist yet. */
  forkWorkflowId: string;
  definitions: readonly ReplayDefinition[];
  /** When the fork is made (ISO-8601 from the host's clock). */
  at: string;
  /** Written as `source` of the fork's timer messages (default `gateway`). */
  source?: string;
  /** Dedupe window of the fork record (default 256, as the runtime). */
  appliedIdsWindow?: number;
}

/** A fork ready to write: its record at version `step`, and its journal (copies of the source's 1..step). */
export interface ForkPlan {
  record: WorkflowRecord;
  entries: JournalEntry[];
  /** The source's state at `step`, rebuilt and checked. */
  replay: ReplayResult;
}

/**
 * Plans a new workflow that starts where another stood at `step`: its state is the source's state at
 * that step rebuilt from the journal (refused unless the rebuild matches the journaled digests), its
 * journal is a copy of the source's entries 1..step under the new id (each marked `forkedFrom`), so
 * the fork replays from its own journal alone. Timers active at that step are scheduled again under
 * the fork's id (same due times) through the fork's outbox. Effects of steps up to `step` are not run
 * again: the fork's outbox holds only the timers. The machine context is the source's as it was
 * (including any id the machine keeps in it). Pure.
 *
 * @throws ReplayError as {@link replayJournal}, and `REPLAY_MISMATCH` when the rebuilt state is not
 *   what the journal recorded (forking it would start from a state that never was).
 */
export function planFork(request: ForkRequest): ForkPlan {
  const replay = replayJournal(request.sourceEntries, request.definitions, { step: request.step });
  if (!replay.matchesSnapshot) {
    throw new ReplayError('REPLAY_MISMATCH', `the journal of ${replay.workflowId} does not reproduce step ${request.step}: ${JSON.stringify(replay.mismatches[0])}`);
  }
  const forkId = request.forkWorkflowId;
  const source = request.source ?? 'gateway';
  const entries = [...request.sourceEntries]
    .sort((a, b) => a.seq - b.seq)
    .slice(0, request.step)
    .map((entry): JournalEntry => ({ ...entry, workflowId: forkId, forkedFrom: { workflowId: entry.workflowId, seq: entry.seq } }));
  const timers: ActiveTimer[] = replay.timers.map((timer) => ({ ...timer, timerId: `${forkId}:${request.step}:timer:${timer.sendId}` }));
  const outbox: OutboxMessage[] = timers.map((timer) => {
    const scheduled: TimerScheduled = { timerId: timer.timerId, workflowId: forkId, sendId: timer.sendId, dueAt: timer.dueAt, event: timer.event };
    const envelope: Envelope = {
      id: timer.timerId,
      type: TIMER_SCHEDULED,
      workflowId: forkId,
      correlationId: forkId,
      causationId: null,
      occurredAt: request.at,
      source,
      payload: scheduled,
    };
    return { id: timer.timerId, subject: timerSubject(partitionOf(forkId)), envelope };
  });
  const definition = request.definitions.find((d) => d.workflowType === replay.workflowType && d.machineVersion === replay.machineVersion);
  const tags = definition?.tags === undefined ? {} : definition.tags(definition.machine.resolveState(replay.snapshot as never) as never);
  const record: WorkflowRecord = {
    workflowId: forkId,
    workflowType: replay.workflowType,
    machineVersion: replay.machineVersion,
    version: request.step,
    snapshot: replay.snapshot,
    status: replay.status,
    stateValue: replay.stateValue,
    statePaths: statePaths(replay.stateValue),
    tags,
    appliedEventIds: replay.eventIds.slice(-(request.appliedIdsWindow ?? 256)),
    outbox,
    pendingJournal: entries,
    pendingApproval: replay.pendingApproval,
    timers,
    correlationId: forkId,
    traceId: null,
    createdAt: request.at,
    updatedAt: request.at,
  };
  return { record, entries, replay };
}

/**
 * Writes a planned fork: the record with expected version 0 (so an existing id is refused with
 * VersionConflictError and nothing else is written), then its journal entries (idempotent). The
 * source workflow is only read. The caller then publishes the fork's outbox and its next event.
 *
 * @throws VersionConflictError when `plan.record.workflowId` exists; store and journal errors.
 */
export async function writeFork(plan: ForkPlan, ports: { store: SnapshotStore; journal: Journal }): Promise<void> {
  await ports.store.save(plan.record, 0);
  for (const entry of plan.entries) await ports.journal.append(entry);
}
