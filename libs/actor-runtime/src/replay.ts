import { initialTransition, transition, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import { z } from 'zod';
import { Effect, TIMER_FIRED, TimerFired, WORKFLOW_MIGRATED, formatIssues, type JournalEntry, type PendingApproval, type StateValue, type WorkflowStatus } from '@troupe/contracts';
import type { ActiveTimer } from '@troupe/persistence';
import { definitionKey } from './definition-registry';
import { ReplayError } from './errors';
import { approvalDeadline } from './approval-deadline';
import { canonicalJson, snapshotDigest } from './snapshot-digest';

/**
 * What replay needs of a workflow definition: the pure machine of one `<workflowType>@<machineVersion>`
 * (a {@link WorkflowDefinition} is one). `tags` is used by forks to fill the read model's tags.
 */
export interface ReplayDefinition {
  workflowType: string;
  machineVersion: string;
  machine: AnyStateMachine;
  tags?(snapshot: never): Record<string, string>;
}

/** One step that did not reproduce what the journal says it produced. */
export interface ReplayMismatch {
  seq: number;
  /** What differed: `snapshotDigest`, `stateValue`, `status`, or `noDigest` (an entry written before digests). */
  field: 'snapshotDigest' | 'stateValue' | 'status' | 'noDigest';
  expected: unknown;
  actual: unknown;
}

/** The state of a workflow rebuilt from its journal at one step. */
export interface ReplayResult {
  workflowId: string;
  workflowType: string;
  /** The step (journal `seq`, equal to the record version) rebuilt. */
  step: number;
  /** Machine version the workflow ran on after this step. */
  machineVersion: string;
  stateValue: StateValue;
  status: WorkflowStatus;
  context: unknown;
  /** The persisted XState snapshot at this step (JSON-safe), as the runtime would have stored it. */
  snapshot: unknown;
  /** `sha256:<hex>` of {@link snapshot}'s canonical JSON. */
  snapshotDigest: string;
  /** Durable timers active after this step (ids as the runtime made them). */
  timers: ActiveTimer[];
  /** The decision pending after this step, as the runtime derives it (from the last approval request). */
  pendingApproval: PendingApproval | null;
  /** Ids of the events applied up to this step, oldest first. */
  eventIds: string[];
  /** True when every step up to `step` reproduced its journaled digest, state value and status. */
  matchesSnapshot: boolean;
  /** Every step that did not; empty when `matchesSnapshot`. */
  mismatches: ReplayMismatch[];
}

const EventWithPayload = z.looseObject({ payload: z.unknown() });

interface MachineAction {
  type: string;
  params?: unknown;
}

/**
 * Rebuilds a workflow's state at `step` (default: its last entry) from its journal alone, the way
 * {@link ActorRuntime} computed it: the start entry's recorded machine input through `initialTransition`,
 * then each applied event (the parsed payload the journal keeps) through XState's pure `transition()`
 * from the persisted snapshot of the step before; a rejected event leaves the state as it was; a
 * `workflow.migrated` entry carries its snapshot and switches the machine version. Each rebuilt step is
 * checked against the journaled `snapshotDigest`, `stateValue` and `status`: this is the determinism
 * check of the machine (a machine that reads a clock or randomness fails it).
 *
 * Pure: no I/O, no clock.
 *
 * @param entries the workflow's journal entries, any order; seq 1..n must all be there.
 * @throws ReplayError when the journal is empty, has a gap, lacks the start input, names a
 *   `<workflowType>@<machineVersion>` not in `definitions`, or `step` is not 1..n.
 */
export function replayJournal(entries: readonly JournalEntry[], definitions: readonly ReplayDefinition[], options: { step?: number } = {}): ReplayResult {
  const sorted = [...entries].sort((a, b) => a.seq - b.seq);
  if (sorted.length === 0) throw new ReplayError('EMPTY_JOURNAL', 'the journal has no entries (never started, or compacted)');
  const workflowId = sorted[0].workflowId;
  sorted.forEach((entry, index) => {
    if (entry.seq !== index + 1) throw new ReplayError('JOURNAL_GAP', `journal of ${workflowId} has no entry ${index + 1} (next is ${entry.seq})`);
  });
  const last = sorted.length;
  const step = options.step ?? last;
  if (!Number.isInteger(step) || step < 1 || step > last) {
    throw new ReplayError('STEP_OUT_OF_RANGE', `step ${step} is not in 1..${last} of the journal of ${workflowId}`);
  }
  const byKey = new Map(definitions.map((definition) => [definitionKey(definition.workflowType, definition.machineVersion), definition]));
  const machineOf = (workflowType: string, machineVersion: string): AnyStateMachine => {
    const definition = byKey.get(definitionKey(workflowType, machineVersion));
    if (definition === undefined) throw new ReplayError('UNKNOWN_DEFINITION', `no definition ${definitionKey(workflowType, machineVersion)} to replay ${workflowId} with`);
    return definition.machine;
  };

  const start = sorted[0];
  if (start.input === undefined) throw new ReplayError('NO_START_INPUT', `the start entry of ${workflowId} records no machine input (written before replay existed)`);
  let machineVersion = start.machineVersion ?? '1';
  let machine = machineOf(start.workflowType, machineVersion);
  const [initial, initialActions] = initialTransition(machine, start.input as never) as [AnyMachineSnapshot, MachineAction[]];
  let snapshot = initial;
  let persisted: unknown = machine.getPersistedSnapshot(snapshot);
  let timers = nextTimers([], null, initialActions, workflowId, 1, start.appliedAt, snapshot.status as WorkflowStatus);
  let pendingApproval = nextPendingApproval(snapshot, initialActions, null, start.appliedAt, timers);
  const eventIds = [start.eventId];
  const mismatches: ReplayMismatch[] = [];
  check(start, snapshot, persisted, mismatches);

  for (const entry of sorted.slice(1, step)) {
    eventIds.push(entry.eventId);
    if (entry.eventType === WORKFLOW_MIGRATED) {
      if (entry.snapshot === undefined || entry.machineVersion === undefined) {
        throw new ReplayError('BAD_MIGRATION_ENTRY', `migration entry ${entry.seq} of ${workflowId} lacks its snapshot or machine version`);
      }
      machineVersion = entry.machineVersion;
      machine = machineOf(entry.workflowType, machineVersion);
      snapshot = machine.resolveState(entry.snapshot as never) as AnyMachineSnapshot;
      persisted = entry.snapshot;
      if (snapshot.status !== 'active') timers = [];
      if (!snapshot.hasTag('approval')) pendingApproval = null;
      check(entry, snapshot, persisted, mismatches);
      continue;
    }
    const restored = machine.resolveState(persisted as never) as AnyMachineSnapshot;
    if (entry.rejection !== null) {
      snapshot = restored;
      pendingApproval = nextPendingApproval(snapshot, [], pendingApproval, entry.appliedAt, timers);
    } else {
      const payload = payloadOf(entry);
      let event: { type: string; payload?: unknown } = { type: entry.eventType, payload };
      let fired: ActiveTimer | null = null;
      if (entry.eventType === TIMER_FIRED) {
        const parsed = TimerFired.safeParse(payload);
        if (!parsed.success) throw new ReplayError('BAD_TIMER_ENTRY', `timer entry ${entry.seq} of ${workflowId}: ${formatIssues(parsed.error).join('; ')}`);
        event = parsed.data.event;
        fired = timers.find((timer) => timer.timerId === parsed.data.timerId) ?? null;
      }
      const [next, actions] = transition(machine, restored, event as never) as [AnyMachineSnapshot, MachineAction[]];
      snapshot = next;
      timers = nextTimers(timers, fired, actions, workflowId, entry.seq, entry.appliedAt, snapshot.status as WorkflowStatus);
      pendingApproval = nextPendingApproval(snapshot, actions, pendingApproval, entry.appliedAt, timers);
    }
    if (snapshot.status !== 'active') timers = [];
    persisted = machine.getPersistedSnapshot(snapshot);
    check(entry, snapshot, persisted, mismatches);
  }

  return {
    workflowId,
    workflowType: start.workflowType,
    step,
    machineVersion,
    stateValue: snapshot.value as StateValue,
    status: snapshot.status as WorkflowStatus,
    context: JSON.parse(JSON.stringify(snapshot.context ?? null)) as unknown,
    snapshot: JSON.parse(JSON.stringify(persisted)) as unknown,
    snapshotDigest: snapshotDigest(persisted),
    timers,
    pendingApproval,
    eventIds,
    matchesSnapshot: mismatches.length === 0,
    mismatches,
  };
}

/** The parsed payload the runtime journaled with the event envelope. */
function payloadOf(entry: JournalEntry): unknown {
  const parsed = EventWithPayload.safeParse(entry.event);
  if (!parsed.success) throw new ReplayError('BAD_EVENT_ENTRY', `entry ${entry.seq} of ${entry.workflowId} holds no event envelope`);
  return parsed.data.payload;
}

/** Records where a rebuilt step differs from its journal entry. */
function check(entry: JournalEntry, snapshot: AnyMachineSnapshot, persisted: unknown, mismatches: ReplayMismatch[]): void {
  if (entry.snapshotDigest === undefined) {
    mismatches.push({ seq: entry.seq, field: 'noDigest', expected: null, actual: snapshotDigest(persisted) });
  } else if (entry.snapshotDigest !== snapshotDigest(persisted)) {
    mismatches.push({ seq: entry.seq, field: 'snapshotDigest', expected: entry.snapshotDigest, actual: snapshotDigest(persisted) });
  }
  if (canonicalJson(entry.stateValue) !== canonicalJson(snapshot.value)) {
    mismatches.push({ seq: entry.seq, field: 'stateValue', expected: entry.stateValue, actual: snapshot.value });
  }
  if (entry.status !== snapshot.status) mismatches.push({ seq: entry.seq, field: 'status', expected: entry.status, actual: snapshot.status });
}

/** The pending approval after a step, as the runtime derives it: the last approval request while the state has the `approval` tag. */
function nextPendingApproval(snapshot: AnyMachineSnapshot, actions: MachineAction[], previous: PendingApproval | null, at: string, timers: ActiveTimer[]): PendingApproval | null {
  if (!snapshot.hasTag('approval')) return null;
  const requests = actions.filter((action) => action.type === 'requestEffect').map((action) => Effect.safeParse(action.params));
  const requested = requests.reverse().find((parsed) => parsed.success && parsed.data.kind === 'approval.request');
  if (requested === undefined || !requested.success || requested.data.kind !== 'approval.request') return previous === null ? null : { ...previous, ...approvalDeadline(snapshot, timers) };
  const { gateId, gate, proposed, reason, allowedRoles } = requested.data;
  return { gateId, gate, proposed, reason, allowedRoles, requestedAt: at, ...approvalDeadline(snapshot, timers) };
}

/** The timers after a step, as the runtime keeps them (same ids: `<workflowId>:<version>:timer:<sendId>`). */
function nextTimers(
  previous: ActiveTimer[],
  fired: ActiveTimer | null,
  actions: MachineAction[],
  workflowId: string,
  version: number,
  at: string,
  status: WorkflowStatus,
): ActiveTimer[] {
  let active = previous.filter((timer) => timer !== fired);
  for (const action of actions) {
    const params = action.params as { sendId?: unknown; id?: unknown; delay?: unknown; event?: unknown } | undefined;
    if (action.type === 'xstate.cancel' && typeof params?.sendId === 'string') {
      active = active.filter((timer) => timer.sendId !== params.sendId);
    } else if (action.type === 'xstate.raise' && typeof params?.delay === 'number') {
      const sendId = typeof params.id === 'string' ? params.id : `${(params.event as { type?: string })?.type ?? 'delayed'}`;
      const timer: ActiveTimer = {
        timerId: `${workflowId}:${version}:timer:${sendId}`,
        sendId,
        dueAt: new Date(Date.parse(at) + params.delay).toISOString(),
        event: params.event as ActiveTimer['event'],
      };
      active = [...active.filter((t) => t.sendId !== sendId), timer];
    }
  }
  return status === 'active' ? active : [];
}
