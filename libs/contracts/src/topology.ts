import type { WorkflowId } from './envelope';

/**
 * Subject, stream, bucket and consumer names. Nothing else in Troupe writes these as string literals.
 *
 * Subject map (DESIGN.md "The message flow"):
 * - `troupe.wf.<partition>.<workflowId>.<event type>`: events into a workflow actor (stream `WF_EVENTS`),
 *   the type's dotted words as the last tokens, so nats-server permissions can allow each publisher only
 *   its own event types (deploy/nats/troupe-permissions.conf); the orchestrator refuses an event whose
 *   type is not its subject's. `troupe.wf.<partition>.<workflowId>` (no type) is accepted too.
 * - `troupe.agent.<agent>.task`: work for one agent (stream `AGENT_TASKS`, work queue).
 * - `troupe.effect.<kind>`: non-agent effects such as sending a reply (stream `EFFECTS`, work queue).
 * - `troupe.approval.requested`: the operators' inbox (stream `APPROVALS`).
 * - `troupe.changes.<workflowId>`: state-change feed (stream `WF_CHANGES`).
 * - `troupe.journal.<workflowId>`: the embedded store's journal (stream `TROUPE_JOURNAL`).
 * - `troupe.journal-archive.<workflowId>`: journal entries moved out by retention (stream `TROUPE_JOURNAL_ARCHIVE`).
 * - `troupe.dlq.<origin>`: dead letters, `origin` being the consumer that gave up (stream `DEAD_LETTERS`).
 *
 * DESIGN.md names the change feed `troupe.wf.changed.<id>`, but that subject matches `troupe.wf.*.*`
 * and would flow into the orchestrator's own input stream; it lives under `troupe.changes.` instead.
 */
export const SUBJECT_ROOT = 'troupe';

/** Number of partitions workflow ids hash to (DESIGN.md "Ownership"). */
export const DEFAULT_PARTITION_COUNT = 16;

/**
 * The partition of a workflow: FNV-1a 32-bit hash of the id's UTF-8 bytes, modulo `partitionCount`.
 * Stable across processes, versions and languages (FNV-1a as specified by Fowler, Noll and Vo,
 * http://www.isthe.com/chongo/tech/comp/fnv/).
 */
export function partitionOf(workflowId: WorkflowId, partitionCount: number = DEFAULT_PARTITION_COUNT): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(workflowId)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitionCount;
}

/** `troupe.wf.<partition>.<workflowId>`: where every event for one workflow is published. */
export function workflowEventSubject(workflowId: WorkflowId, partitionCount: number = DEFAULT_PARTITION_COUNT): string {
  return `${SUBJECT_ROOT}.wf.${partitionOf(workflowId, partitionCount)}.${workflowId}`;
}

/**
 * `troupe.wf.<partition>.<workflowId>.<eventType>`: where an event of type `eventType` (dotted words,
 * e.g. `approval.decided`) for one workflow is published. Subject permissions can then name the types a
 * user may publish (`troupe.wf.*.*.approval.decided`); the orchestrator dead-letters an envelope whose
 * `type` differs from the subject's (see {@link eventTypeOfWorkflowSubject}).
 */
export function workflowEventTypeSubject(workflowId: WorkflowId, eventType: string, partitionCount: number = DEFAULT_PARTITION_COUNT): string {
  return `${workflowEventSubject(workflowId, partitionCount)}.${eventType}`;
}

/**
 * The event type a workflow event subject names: the tokens after `troupe.wf.<partition>.<workflowId>`
 * joined by dots, or null for the untyped subject (or a subject that is not a workflow event's).
 */
export function eventTypeOfWorkflowSubject(subject: string): string | null {
  const tokens = subject.split('.');
  if (tokens.length <= 4 || tokens[0] !== SUBJECT_ROOT || tokens[1] !== 'wf') return null;
  return tokens.slice(4).join('.');
}

/** `troupe.wf.<partition>.>`: every workflow event of one partition, typed or not. */
export function partitionEventsFilter(partition: number): string {
  return `${SUBJECT_ROOT}.wf.${partition}.>`;
}

/** The handler pattern of every workflow event of every partition (the stream holds `troupe.wf.*.>`). */
export const ALL_WORKFLOW_EVENTS = `${SUBJECT_ROOT}.wf.*.*`;

/** `troupe.agent.<agent>.task`: the work queue of one agent. */
export function agentTaskSubject(agent: string): string {
  return `${SUBJECT_ROOT}.agent.${agent}.task`;
}

/** `troupe.effect.<kind>` for a non-agent effect (kind with dots replaced by dashes, e.g. `reply-send`). */
export function effectSubject(kind: string): string {
  return `${SUBJECT_ROOT}.effect.${kind.replace(/\./g, '-')}`;
}

/** The operators' approval inbox. */
export const APPROVAL_REQUESTED_SUBJECT = `${SUBJECT_ROOT}.approval.requested`;

/** `troupe.changes.<workflowId>`: one message per persisted transition. */
export function workflowChangedSubject(workflowId: WorkflowId): string {
  return `${SUBJECT_ROOT}.changes.${workflowId}`;
}

/** Filter matching the change feed of every workflow. */
export const ALL_WORKFLOW_CHANGES = `${SUBJECT_ROOT}.changes.*`;

/** `troupe.journal.<workflowId>`: the embedded journal of one workflow. */
export function journalSubject(workflowId: WorkflowId): string {
  return `${SUBJECT_ROOT}.journal.${workflowId}`;
}

/** `troupe.journal-archive.<workflowId>`: archived journal entries of one workflow (embedded store, retention). */
export function journalArchiveSubject(workflowId: WorkflowId): string {
  return `${SUBJECT_ROOT}.journal-archive.${workflowId}`;
}

/** `troupe.dlq.<origin>`: dead letters of one consumer (or edge, e.g. `gateway`). */
export function deadLetterSubject(origin: string): string {
  return `${SUBJECT_ROOT}.dlq.${origin.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/** `troupe.timer.<partition>`: durable timers of the workflows of one partition (stream `TIMERS`). */
export function timerSubject(partition: number): string {
  return `${SUBJECT_ROOT}.timer.${partition}`;
}

/** Filter matching every durable timer. */
export const ALL_TIMERS = `${SUBJECT_ROOT}.timer.*`;

/** Filter matching every dead letter. */
export const ALL_DEAD_LETTERS = `${SUBJECT_ROOT}.dlq.>`;

/**
 * A JetStream stream Troupe provisions, as plain data (the bus maps it to server config).
 * `maxAgeMs` 0 means no age limit; `duplicateWindowMs` is the `Nats-Msg-Id` deduplication window.
 */
export interface StreamDefinition {
  name: string;
  subjects: string[];
  retention: 'limits' | 'workqueue';
  maxAgeMs: number;
  duplicateWindowMs: number;
  description: string;
}

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** Every stream Troupe uses. Provisioning is idempotent (create, or update to this definition). */
export const STREAMS = {
  workflowEvents: {
    name: 'WF_EVENTS',
    subjects: [`${SUBJECT_ROOT}.wf.*.>`],
    retention: 'limits',
    maxAgeMs: 7 * DAY_MS,
    duplicateWindowMs: 10 * MINUTE_MS,
    description: 'Events into workflow actors, subject troupe.wf.<partition>.<workflowId>[.<event type>]',
  },
  agentTasks: {
    name: 'AGENT_TASKS',
    subjects: [`${SUBJECT_ROOT}.agent.*.task`],
    retention: 'workqueue',
    maxAgeMs: 7 * DAY_MS,
    duplicateWindowMs: 10 * MINUTE_MS,
    description: 'Work for agents, one work queue per agent',
  },
  effects: {
    name: 'EFFECTS',
    subjects: [`${SUBJECT_ROOT}.effect.*`],
    retention: 'workqueue',
    maxAgeMs: 7 * DAY_MS,
    duplicateWindowMs: 10 * MINUTE_MS,
    description: 'Non-agent effects (sending a reply), one work queue per kind',
  },
  approvals: {
    name: 'APPROVALS',
    subjects: [`${SUBJECT_ROOT}.approval.>`],
    retention: 'limits',
    maxAgeMs: 30 * DAY_MS,
    duplicateWindowMs: 10 * MINUTE_MS,
    description: 'Approval requests for operators',
  },
  workflowChanges: {
    name: 'WF_CHANGES',
    subjects: [ALL_WORKFLOW_CHANGES],
    retention: 'limits',
    maxAgeMs: DAY_MS,
    duplicateWindowMs: 2 * MINUTE_MS,
    description: 'State-change feed, one message per persisted transition',
  },
  journal: {
    name: 'TROUPE_JOURNAL',
    subjects: [`${SUBJECT_ROOT}.journal.*`],
    retention: 'limits',
    maxAgeMs: 0,
    duplicateWindowMs: 10 * MINUTE_MS,
    description: 'Journal of applied events (embedded store)',
  },
  journalArchive: {
    name: 'TROUPE_JOURNAL_ARCHIVE',
    subjects: [`${SUBJECT_ROOT}.journal-archive.*`],
    retention: 'limits',
    maxAgeMs: 0,
    duplicateWindowMs: 10 * MINUTE_MS,
    description: 'Journal entries of completed workflows moved out of the journal by retention (embedded store)',
  },
  timers: {
    name: 'TIMERS',
    subjects: [ALL_TIMERS],
    retention: 'workqueue',
    maxAgeMs: 0,
    duplicateWindowMs: 10 * MINUTE_MS,
    description: 'Durable timers: one message per scheduled timer, held back (nak with delay) until due',
  },
  deadLetters: {
    name: 'DEAD_LETTERS',
    subjects: [ALL_DEAD_LETTERS],
    retention: 'limits',
    maxAgeMs: 30 * DAY_MS,
    duplicateWindowMs: 2 * MINUTE_MS,
    description: 'Messages that failed validation or exhausted their deliveries, with the reason',
  },
} as const satisfies Record<string, StreamDefinition>;

/** JetStream KV buckets of the embedded default. */
export const BUCKETS = {
  /** Workflow snapshot documents, key = workflow id, written by compare-and-set on the revision. */
  snapshots: 'troupe_snapshots',
  /** The outbox of sent replies, key = idempotency key (written with create: at most once). */
  sentMail: 'troupe_sent_mail',
  /** Partition ownership leases of orchestrator replicas, key = `partition.<n>`, TTL-bounded. */
  partitionLeases: 'troupe_partition_leases',
  /** What each agent advertises (name, description, input schema), key = agent name; read by the supervisor. */
  agents: 'troupe_agents',
  /** Results of completed tool calls, key = effect id: a redelivered tool call returns the record, never runs twice. */
  effectResults: 'troupe_effect_results',
  /** Tokens and cost spent by each workflow's agent runs (per-workflow budget), key = workflow id. */
  workflowUsage: 'troupe_workflow_usage',
} as const;

/**
 * A durable pull consumer as plain data. `backoffMs` are the nak delays after failed deliveries 1, 2, …
 * (the last repeats); after `maxDeliver` deliveries the message is dead-lettered. `maxDeliver` -1 means
 * unlimited (used by the timer consumer, whose messages are held back by nak until due).
 */
export interface ConsumerDefinition {
  stream: string;
  durable: string;
  filterSubject: string;
  maxDeliver: number;
  ackWaitMs: number;
  backoffMs: number[];
  maxAckPending: number;
}

const defaultDelivery = { maxDeliver: 5, ackWaitMs: 10_000, backoffMs: [500, 2_000, 5_000, 10_000], maxAckPending: 256 };

/** The orchestrator's consumer of every workflow event. */
export const ORCHESTRATOR_CONSUMER: ConsumerDefinition = {
  stream: STREAMS.workflowEvents.name,
  durable: 'orchestrator',
  filterSubject: `${SUBJECT_ROOT}.wf.*.>`,
  ...defaultDelivery,
  maxAckPending: 1024,
};

/**
 * The orchestrator's durable consumer of one partition's workflow events, `orchestrator-p<n>` with filter
 * `troupe.wf.<n>.*` and the delivery settings of {@link ORCHESTRATOR_CONSUMER}. Only the replica holding
 * the partition's lease pulls from it (DESIGN.md "Ownership").
 *
 * @throws RangeError when `partition` is not an integer from 0.
 */
export function orchestratorPartitionConsumer(partition: number): ConsumerDefinition {
  if (!Number.isInteger(partition) || partition < 0) throw new RangeError(`partition must be an integer >= 0, got ${partition}`);
  return { ...ORCHESTRATOR_CONSUMER, durable: `orchestrator-p${partition}`, filterSubject: partitionEventsFilter(partition) };
}

/** The orchestrators' consumer of due timers (one for all partitions in this slice). */
export const TIMER_CONSUMER: ConsumerDefinition = {
  stream: STREAMS.timers.name,
  durable: 'orchestrator-timers',
  filterSubject: ALL_TIMERS,
  maxDeliver: -1,
  ackWaitMs: 30_000,
  backoffMs: [1_000],
  maxAckPending: 100_000,
};

/** The consumer of one agent's work queue. */
export function agentConsumer(agent: string): ConsumerDefinition {
  return { stream: STREAMS.agentTasks.name, durable: `agent-${agent}`, filterSubject: agentTaskSubject(agent), ...defaultDelivery };
}

/** The consumer of one effect kind's work queue. */
export function effectConsumer(kind: string): ConsumerDefinition {
  return { stream: STREAMS.effects.name, durable: `effect-${kind.replace(/\./g, '-')}`, filterSubject: effectSubject(kind), ...defaultDelivery };
}
