import { LRUCache } from 'lru-cache';
import { initialTransition, transition, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import {
  AGENT_TASK_REQUESTED,
  APPROVAL_REQUESTED,
  APPROVAL_REQUESTED_SUBJECT,
  Effect,
  REPLY_SEND_REQUESTED,
  TIMER_FIRED,
  TIMER_SCHEDULED,
  TimerFired,
  WORKFLOW_CHANGED,
  agentTaskSubject,
  effectSubject,
  formatIssues,
  parseOrThrow,
  partitionOf,
  timerSubject,
  workflowChangedSubject,
  type Envelope,
  type JournalEntry,
  type PendingApproval,
  type StateValue,
  type TimerScheduled,
  type WorkflowChanged,
  type WorkflowStatus,
} from '@troupe/contracts';
import type { ActiveTimer, Journal, OutboxMessage, SnapshotStore, WorkflowRecord } from '@troupe/persistence';
import { VersionConflictError } from '@troupe/persistence';
import { currentTraceId, observeActorCache, recordStepDuration, withSpan, withWorkflowBaggage } from '@troupe/telemetry';
import { agentEffectKindOf, agentEffectMessage, workflowEventMessage } from './agent-effect-messages';
import { approvalDecisionRejection } from './approval-check';
import { approvalDeadline } from './approval-deadline';
import { DefinitionRegistry } from './definition-registry';
import { InvalidEffectError, UnknownMachineVersionError, UnknownWorkflowError, UnsupportedEventError } from './errors';
import { snapshotDigest } from './snapshot-digest';
import { describeTransition, nextTraceParent, recordWorkflowOutcome, type StepFacts } from './transition-telemetry';
import { statePaths } from './state-paths';
import type { WorkflowDefinition } from './workflow-definition';

/** Publishes one outbox message with `Nats-Msg-Id = message.id`; resolves when the stream acked it. */
export type OutboxPublisher = (message: OutboxMessage) => Promise<void>;

/** Dependencies and settings of an {@link ActorRuntime}. */
export interface ActorRuntimeOptions {
  /**
   * Every version of every workflow type this host runs, each a distinct `<workflowType>@<machineVersion>`:
   * new instances start on the latest version, running ones continue on the version their snapshot records.
   */
  definitions: WorkflowDefinition[];
  store: SnapshotStore;
  journal: Journal;
  publish: OutboxPublisher;
  /** The time source (injected so tests and replays control it). */
  now?: () => Date;
  /** Name written as `source` of every message the runtime emits (default `orchestrator`). */
  source?: string;
  /** How many applied event ids each snapshot remembers for deduplication (default 256). */
  appliedIdsWindow?: number;
  /** Maximum actors kept in memory (default 10,000); the rest are reloaded from the store on demand. */
  cacheSize?: number;
  /**
   * Passivation: an actor not used for this long (ms) leaves memory and is rehydrated from its snapshot
   * on its next event (default 300,000; 0 keeps actors until the cache size pushes them out).
   */
  idleMs?: number;
  /**
   * How many actors that left memory this process remembers as published (their last record's
   * version), so reloading one does not publish its outbox again (default 10 × `cacheSize`).
   */
  publishedMemorySize?: number;
}

/** What happened to one inbound event. */
export type HandleOutcome =
  | { kind: 'applied'; workflowId: string; version: number; stateValue: StateValue; effects: number }
  | { kind: 'rejected'; workflowId: string; version: number; reason: string }
  | { kind: 'duplicate'; workflowId: string; version: number };

/** Counters for tests, benchmarks and metrics. */
export interface ActorRuntimeCounters {
  applied: number;
  rejected: number;
  duplicates: number;
  versionConflicts: number;
  outboxRepublished: number;
}

interface MachineAction {
  type: string;
  params?: unknown;
}

/**
 * Hosts workflow actors by the durability protocol of DESIGN.md: for each inbound event,
 * load the snapshot (cache, else store) → drop an event id already applied (after re-publishing any
 * outbox a crash left behind) → compute the transition with XState's pure `transition()` → collect the
 * effects the machine emitted → persist snapshot + outbox + journal entry in one write conditioned on
 * the version read → append the journal entry and publish the outbox (`Nats-Msg-Id =
 * <workflowId>:<version>:<n>`), in parallel. The outbox stays in the record until the next write; a
 * record loaded from the store (after a crash, or written elsewhere) has its outbox published again
 * first, unless this process published that very record before it left memory (passivation). A start
 * event of a workflow not in memory creates its record first and loads only on a version conflict.
 * The caller (the JetStream transport) acks the inbound message after `handle` resolves, so the ack
 * is last.
 *
 * Events of one workflow are applied one at a time in arrival order; different workflows in parallel.
 * The runtime performs no I/O of its own beyond the injected store, journal and publisher.
 */
export class ActorRuntime {
  private readonly definitions: DefinitionRegistry;
  private readonly cache: LRUCache<string, WorkflowRecord>;
  private readonly chains = new Map<string, Promise<unknown>>();
  /** Records whose outbox and journal entries this process has published. */
  private readonly published = new WeakSet<WorkflowRecord>();
  /**
   * `workflowId → publishedMark(record)` of published records that left the cache (passivated,
   * evicted, dropped on a lease loss): a reload of that very record needs no second publish. A Map
   * bounded by dropping its oldest entry (an LRUCache would allocate its full size up front).
   */
  private readonly publishedOutOfCache = new Map<string, string>();
  private readonly publishedMemorySize: number;
  private readonly now: () => Date;
  private readonly source: string;
  private readonly appliedIdsWindow: number;
  readonly counters: ActorRuntimeCounters = { applied: 0, rejected: 0, duplicates: 0, versionConflicts: 0, outboxRepublished: 0 };

  constructor(private readonly options: ActorRuntimeOptions) {
    this.definitions = new DefinitionRegistry(options.definitions);
    const idleMs = options.idleMs ?? 300_000;
    const cacheSize = options.cacheSize ?? 10_000;
    this.publishedMemorySize = options.publishedMemorySize ?? 10 * cacheSize;
    this.cache = new LRUCache({
      max: cacheSize,
      ...(idleMs > 0 ? { ttl: idleMs, updateAgeOnGet: true, ttlAutopurge: true } : {}),
      // A record replaced by its successor ('set') needs no mark: the successor is in the cache.
      dispose: (record, workflowId, reason) => {
        if (reason !== 'set' && this.published.has(record)) this.rememberPublished(workflowId, record);
      },
    });
    this.now = options.now ?? (() => new Date());
    this.source = options.source ?? 'orchestrator';
    this.appliedIdsWindow = options.appliedIdsWindow ?? 256;
    observeActorCache(this);
  }

  /** Number of actors held in memory. */
  get cachedActors(): number {
    return this.cache.size;
  }

  /**
   * Drops from memory every cached actor of `partition` (of `partitionCount`), e.g. when this replica
   * loses the partition's lease: should the partition come back, its actors are reloaded rather than
   * trusted stale. Returns how many were dropped.
   */
  evictPartition(partition: number, partitionCount: number): number {
    let evicted = 0;
    for (const workflowId of [...this.cache.keys()]) {
      if (partitionOf(workflowId, partitionCount) === partition) {
        this.cache.delete(workflowId);
        evicted += 1;
      }
    }
    return evicted;
  }

  /**
   * Applies one inbound event to its workflow actor.
   *
   * @throws SchemaValidationError, UnknownWorkflowError, UnsupportedEventError, InvalidEffectError (not
   *   retryable: the transport dead-letters the message); VersionConflictError and store/bus errors
   *   (retryable: the transport naks and the event is tried again).
   */
  handle(envelope: Envelope): Promise<HandleOutcome> {
    const previous = this.chains.get(envelope.workflowId) ?? Promise.resolve();
    const next = previous.then(
      () => this.apply(envelope),
      () => this.apply(envelope),
    );
    this.chains.set(envelope.workflowId, next);
    void next.finally(() => {
      if (this.chains.get(envelope.workflowId) === next) this.chains.delete(envelope.workflowId);
    }).catch(() => undefined);
    return next;
  }

  /** One step inside a `workflow.transition` span; its duration is the step latency metric. */
  private apply(envelope: Envelope): Promise<HandleOutcome> {
    return withSpan('workflow.transition', {}, async () => {
      const startedAt = performance.now();
      const step: StepFacts = { workflowType: 'unknown', outcome: 'error' };
      try {
        const outcome = await this.applyOnce(envelope, step);
        step.outcome = outcome.kind;
        return outcome;
      } catch (error) {
        if (error instanceof VersionConflictError) {
          this.counters.versionConflicts += 1;
          this.cache.delete(envelope.workflowId);
        }
        throw error;
      } finally {
        recordStepDuration((performance.now() - startedAt) / 1_000, { workflowType: step.workflowType, eventType: envelope.type, outcome: step.outcome });
      }
    });
  }

  private async applyOnce(envelope: Envelope, step: StepFacts, loadFirst = false): Promise<HandleOutcome> {
    const cached = this.cache.get(envelope.workflowId);
    // A start event of a workflow not in memory most likely starts a new one: create its record first
    // and load only if one exists (the save's version conflict), sparing the "not found" read.
    const createFirst = cached === undefined && !loadFirst && this.definitions.forStartEvent(envelope.type) !== undefined;
    const existing = cached ?? (createFirst ? null : await this.options.store.load(envelope.workflowId));
    if (existing !== null && cached === undefined && this.publishedOutOfCache.get(existing.workflowId) === publishedMark(existing)) {
      // This very record was published by this process before it left memory.
      this.published.add(existing);
      this.publishedOutOfCache.delete(existing.workflowId);
    }
    // A record this process did not publish itself (loaded after a restart or passivation) may carry
    // an outbox a crash left unpublished: publish it again before anything else. Duplicates are dropped
    // by Nats-Msg-Id within the stream's window and by event ids after it.
    if (existing !== null && !this.published.has(existing) && (existing.outbox.length > 0 || existing.pendingJournal.length > 0)) {
      this.counters.outboxRepublished += 1;
      await this.flush(existing);
    }
    if (existing !== null) step.workflowType = existing.workflowType;
    if (existing !== null && existing.appliedEventIds.includes(envelope.id)) {
      this.cache.set(existing.workflowId, existing);
      this.counters.duplicates += 1;
      return { kind: 'duplicate', workflowId: envelope.workflowId, version: existing.version };
    }
    const current = existing;

    const definition =
      current === null ? this.definitions.forStartEvent(envelope.type) : this.definitions.get(current.workflowType, current.machineVersion);
    if (definition === undefined && current !== null && this.definitions.latest(current.workflowType) !== undefined) {
      throw new UnknownMachineVersionError(current.workflowId, current.workflowType, current.machineVersion);
    }
    if (definition === undefined) {
      throw current === null
        ? new UnknownWorkflowError(envelope.workflowId, envelope.type)
        : new UnsupportedEventError(current.workflowType, envelope.type);
    }
    step.workflowType = definition.workflowType;
    const at = this.now().toISOString();
    const activeTimers: ActiveTimer[] = current?.timers ?? [];
    let event: { type: string; payload?: unknown };
    /** The payload as parsed (defaults applied): what the journal keeps, so replay sees what the machine saw. */
    let parsedPayload: unknown;
    let firedTimer: ActiveTimer | null = null;
    let rejection: string | null = null;
    if (envelope.type === TIMER_FIRED && current !== null) {
      // A firing is applied only while its timer is active: leaving the state cancelled it.
      const fired = parseOrThrow(TimerFired, envelope.payload, `${envelope.type} payload`);
      firedTimer = activeTimers.find((timer) => timer.timerId === fired.timerId) ?? null;
      event = fired.event;
      parsedPayload = fired;
      if (firedTimer === null) rejection = `timer ${fired.timerId} is no longer active (cancelled by leaving its state, or fired before)`;
    } else {
      const schema = definition.events[envelope.type];
      if (schema === undefined) throw new UnsupportedEventError(definition.workflowType, envelope.type);
      event = { type: envelope.type, payload: parseOrThrow(schema, envelope.payload, `${envelope.type} payload`) };
      parsedPayload = event.payload;
    }

    let snapshot: AnyMachineSnapshot;
    let actions: MachineAction[];
    let input: unknown;
    if (current === null) {
      input = definition.input({ workflowId: envelope.workflowId, payload: event.payload, envelope });
      [snapshot, actions] = initialTransition(definition.machine, input as never) as [AnyMachineSnapshot, MachineAction[]];
    } else {
      const restored = definition.machine.resolveState(current.snapshot as never) as AnyMachineSnapshot;
      if (rejection !== null) {
        // Already decided (a stale timer).
      } else if (current.status !== 'active') {
        rejection = `workflow is ${current.status} in state ${JSON.stringify(current.stateValue)}`;
      } else {
        rejection = approvalDecisionRejection(event, current.pendingApproval, current.stateValue);
        if (rejection === null && !restored.can(event as never)) {
          rejection = `${envelope.type} is not accepted in state ${JSON.stringify(current.stateValue)} (no enabled transition; the machine's guards refused it)`;
        }
      }
      if (rejection === null) {
        [snapshot, actions] = transition(definition.machine as AnyStateMachine, restored, event as never) as [AnyMachineSnapshot, MachineAction[]];
      } else {
        [snapshot, actions] = [restored, []];
      }
    }

    const version = (current?.version ?? 0) + 1;
    const effects = this.collectEffects(definition, actions);
    const stateValue = snapshot.value as StateValue;
    const status = snapshot.status as WorkflowStatus;
    const tags = definition.tags(snapshot as never);
    const timers = this.nextTimers(envelope, version, status, activeTimers, firedTimer, actions, at);
    const pendingApproval = this.pendingApproval(snapshot, effects, current?.pendingApproval ?? null, at, timers.active);
    const correlationId = current?.correlationId ?? envelope.correlationId;
    const outbox: OutboxMessage[] = effects.map((effect, n) =>
      this.outboxMessage(effect, `${envelope.workflowId}:${version}:${n}`, definition.workflowType, envelope, correlationId, at),
    );
    for (const timer of timers.scheduled) {
      const scheduled: TimerScheduled = { timerId: timer.timerId, workflowId: envelope.workflowId, sendId: timer.sendId, dueAt: timer.dueAt, event: timer.event };
      outbox.push({
        id: timer.timerId,
        subject: timerSubject(partitionOf(envelope.workflowId)),
        envelope: { id: timer.timerId, type: TIMER_SCHEDULED, workflowId: envelope.workflowId, correlationId, causationId: envelope.id, occurredAt: at, source: this.source, payload: scheduled },
      });
    }
    if (rejection === null) {
      const changed: WorkflowChanged = {
        workflowType: definition.workflowType,
        version,
        status,
        stateValue,
        statePaths: statePaths(stateValue),
        eventType: envelope.type,
        tags,
        pendingApproval,
      };
      outbox.push({
        id: `${envelope.workflowId}:${version}:changed`,
        subject: workflowChangedSubject(envelope.workflowId),
        envelope: {
          id: `${envelope.workflowId}:${version}:changed`,
          type: WORKFLOW_CHANGED,
          workflowId: envelope.workflowId,
          correlationId,
          causationId: envelope.id,
          occurredAt: at,
          source: this.source,
          payload: changed,
        },
      });
    }
    const persisted = definition.machine.getPersistedSnapshot(snapshot as never);
    const journalEntry: JournalEntry = {
      workflowId: envelope.workflowId,
      workflowType: definition.workflowType,
      seq: version,
      eventId: envelope.id,
      eventType: envelope.type,
      event: { ...envelope, payload: parsedPayload },
      fromStateValue: current === null ? null : current.stateValue,
      stateValue,
      status,
      effects: outbox.filter((m) => !m.id.endsWith(':changed')).map((m) => ({ id: m.id, kind: effectKindOf(m), subject: m.subject })),
      rejection,
      appliedAt: at,
      traceId: currentTraceId() ?? current?.traceId ?? null,
      machineVersion: definition.machineVersion,
      snapshotDigest: snapshotDigest(persisted),
      ...(current === null ? { input } : {}),
    };
    const record: WorkflowRecord = {
      workflowId: envelope.workflowId,
      workflowType: definition.workflowType,
      machineVersion: definition.machineVersion,
      version,
      snapshot: persisted,
      status,
      stateValue,
      statePaths: statePaths(stateValue),
      tags,
      appliedEventIds: [...(current?.appliedEventIds ?? []), envelope.id].slice(-this.appliedIdsWindow),
      outbox,
      pendingJournal: [journalEntry],
      pendingApproval,
      timers: timers.active,
      correlationId,
      traceId: current?.traceId ?? currentTraceId(),
      traceParent: nextTraceParent(current),
      createdAt: current?.createdAt ?? at,
      updatedAt: at,
    };
    try {
      await this.options.store.save(record, current?.version ?? 0);
    } catch (error) {
      // The guess was wrong: the workflow exists (a redelivered start event, say); apply it to the stored record.
      if (createFirst && error instanceof VersionConflictError) return this.applyOnce(envelope, step, true);
      throw error;
    }
    this.cache.set(record.workflowId, record);
    describeTransition({ envelope, workflowType: definition.workflowType, from: current?.stateValue ?? null, to: stateValue, version, status, rejection });
    if (rejection === null) recordWorkflowOutcome(definition.workflowType, current, status, record.statePaths);
    // The outbox carries the workflow's id and type as baggage, so agents count tokens per workflow type.
    await withWorkflowBaggage(record, () => this.flush(record));
    if (rejection !== null) {
      this.counters.rejected += 1;
      return { kind: 'rejected', workflowId: record.workflowId, version, reason: rejection };
    }
    this.counters.applied += 1;
    return { kind: 'applied', workflowId: record.workflowId, version, stateValue, effects: effects.length };
  }

  /** Notes that `record`, published by this process, left the cache; forgets the oldest note beyond the bound. */
  private rememberPublished(workflowId: string, record: WorkflowRecord): void {
    this.publishedOutOfCache.delete(workflowId);
    if (this.publishedOutOfCache.size >= this.publishedMemorySize) {
      const oldest = this.publishedOutOfCache.keys().next();
      if (oldest.done !== true) this.publishedOutOfCache.delete(oldest.value);
    }
    this.publishedOutOfCache.set(workflowId, publishedMark(record));
  }

  /**
   * Appends the pending journal entries and publishes the outbox, all in parallel (each is idempotent).
   * So the journal may trail the change feed by a moment: readers that need both read the record's
   * `pendingJournal` too, as the gateway does. (Publishing the change feed after the journal cost 30 %
   * of the step rate in `npm run bench`.)
   * The record keeps them until its next write replaces them: clearing them would cost a second write
   * per step (see bench/README.md); instead this process remembers which records it has published.
   */
  private async flush(record: WorkflowRecord): Promise<void> {
    await Promise.all([
      ...record.pendingJournal.map((entry) => this.options.journal.append(entry)),
      ...record.outbox.map((message) => this.options.publish(message)),
    ]);
    this.published.add(record);
  }

  /**
   * The timers active after this step and the ones newly scheduled: XState returns a delayed event as
   * an `xstate.raise` action with a `delay` (ms) and a cancellation as `xstate.cancel` with its `sendId`.
   * A finished workflow keeps no timers.
   */
  private nextTimers(
    envelope: Envelope,
    version: number,
    status: WorkflowStatus,
    previous: ActiveTimer[],
    fired: ActiveTimer | null,
    actions: MachineAction[],
    at: string,
  ): { active: ActiveTimer[]; scheduled: ActiveTimer[] } {
    let active = previous.filter((timer) => timer !== fired);
    const scheduled: ActiveTimer[] = [];
    for (const action of actions) {
      const params = action.params as { sendId?: unknown; id?: unknown; delay?: unknown; event?: unknown } | undefined;
      if (action.type === 'xstate.cancel' && typeof params?.sendId === 'string') {
        active = active.filter((timer) => timer.sendId !== params.sendId);
      } else if (action.type === 'xstate.raise' && typeof params?.delay === 'number') {
        const sendId = typeof params.id === 'string' ? params.id : `${(params.event as { type?: string })?.type ?? 'delayed'}`;
        const timer: ActiveTimer = {
          timerId: `${envelope.workflowId}:${version}:timer:${sendId}`,
          sendId,
          dueAt: new Date(Date.parse(at) + params.delay).toISOString(),
          event: params.event as ActiveTimer['event'],
        };
        active = [...active.filter((t) => t.sendId !== sendId), timer];
        scheduled.push(timer);
      }
    }
    if (status !== 'active') active = [];
    return { active, scheduled: scheduled.filter((timer) => active.includes(timer)) };
  }

  private collectEffects(definition: WorkflowDefinition, actions: MachineAction[]): Effect[] {
    return actions
      .filter((action) => action.type === 'requestEffect')
      .map((action) => {
        const parsed = Effect.safeParse(action.params);
        if (!parsed.success) throw new InvalidEffectError(definition.workflowType, formatIssues(parsed.error).join('; '));
        return parsed.data;
      });
  }

  /**
   * The approval pending after a step: the last one requested while the state has the `approval` tag,
   * with the deadline of the timer the gate's state scheduled ({@link approvalDeadline}).
   */
  private pendingApproval(snapshot: AnyMachineSnapshot, effects: Effect[], previous: PendingApproval | null, at: string, timers: ActiveTimer[]): PendingApproval | null {
    if (!snapshot.hasTag('approval')) return null;
    const requested = [...effects].reverse().find((effect) => effect.kind === 'approval.request');
    if (requested === undefined || requested.kind !== 'approval.request') return previous === null ? null : { ...previous, ...approvalDeadline(snapshot, timers) };
    return {
      gateId: requested.gateId,
      gate: requested.gate,
      proposed: requested.proposed,
      reason: requested.reason,
      allowedRoles: requested.allowedRoles,
      requestedAt: at,
      ...approvalDeadline(snapshot, timers),
    };
  }

  private outboxMessage(
    effect: Effect,
    id: string,
    workflowType: string,
    cause: Envelope,
    correlationId: string,
    at: string,
  ): OutboxMessage {
    const base = { id, workflowId: cause.workflowId, correlationId, causationId: cause.id, occurredAt: at, source: this.source };
    switch (effect.kind) {
      case 'agent.task':
        return {
          id,
          subject: agentTaskSubject(effect.agent),
          envelope: {
            ...base,
            type: AGENT_TASK_REQUESTED,
            payload: {
              effectId: id,
              agent: effect.agent,
              task: effect.task,
              input: effect.input,
              ...(effect.budgetWorkflowId === undefined ? {} : { budgetWorkflowId: effect.budgetWorkflowId }),
              ...(effect.limits === undefined ? {} : { limits: effect.limits }),
            },
          },
        };
      case 'approval.request': {
        const { kind: _kind, ...request } = effect;
        return { id, subject: APPROVAL_REQUESTED_SUBJECT, envelope: { ...base, type: APPROVAL_REQUESTED, payload: { ...request, workflowType } } };
      }
      case 'reply.send': {
        const { kind, ...send } = effect;
        return { id, subject: effectSubject(kind), envelope: { ...base, type: REPLY_SEND_REQUESTED, payload: { ...send, effectId: id } } };
      }
      case 'model.call':
      case 'tool.call':
      case 'agent.result':
        return agentEffectMessage(effect, id, base);
      case 'workflow.event':
        return workflowEventMessage(effect, id, base);
    }
  }
}

/**
 * What identifies one stored record: its version, and its write time for a rewrite that keeps the
 * version (an outbox clear).
 */
function publishedMark(record: WorkflowRecord): string {
  return `${record.version}@${record.updatedAt}`;
}

function effectKindOf(message: OutboxMessage): string {
  switch (message.envelope.type) {
    case AGENT_TASK_REQUESTED:
      return 'agent.task';
    case APPROVAL_REQUESTED:
      return 'approval.request';
    case REPLY_SEND_REQUESTED:
      return 'reply.send';
    case TIMER_SCHEDULED:
      return 'timer.schedule';
    default:
      return agentEffectKindOf(message) ?? message.envelope.type;
  }
}
