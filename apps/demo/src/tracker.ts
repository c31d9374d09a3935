import { DeliverPolicy, type ConsumerMessages, type NatsConnection } from 'nats';
import { ALL_WORKFLOW_CHANGES, REACT_LOOP, STREAMS, WorkflowChanged, decodeEnvelope } from '@troupe/contracts';
import { traceIdOfHeaders } from '@troupe/telemetry';

/** Where one workflow of a run stands, from the change feed. */
export interface TrackedWorkflow {
  workflowId: string;
  publishedAtMs: number | null;
  /** When it first reached a final state or a pending approval (ms since epoch). */
  settledAtMs: number | null;
  /** When it reached a final state. */
  doneAtMs: number | null;
  last: WorkflowChanged | null;
  /** The workflow's trace id, from the `traceparent` of its changes (null while tracing is off). */
  traceId: string | null;
}

/** What one agent run (a react-loop actor) of a tracked workflow spent, from its latest change. */
export interface TrackedAgentRun {
  runId: string;
  parentWorkflowId: string;
  agent: string;
  tokens: number;
  costUsd: number;
  /** Which model or fallback served each model call, in order. */
  servedBy: string[];
  version: number;
}

/** A workflow is settled when it is final, or waiting for a human. */
export function isSettled(change: WorkflowChanged): boolean {
  return change.status !== 'active' || change.pendingApproval !== null;
}

/**
 * Follows the change feed (`troupe.changes.*`, an ordered consumer from a start time) and keeps the
 * latest change of each tracked workflow, and of each agent run (react-loop actor) started for one.
 * Changes of other workflows are ignored; out-of-order versions never overwrite newer ones.
 */
export class RunTracker {
  readonly workflows = new Map<string, TrackedWorkflow>();
  /** Agent runs started for tracked workflows, by run id. */
  readonly agentRuns = new Map<string, TrackedAgentRun>();
  private messages: ConsumerMessages | null = null;
  private loop: Promise<void> | null = null;
  private listeners = new Set<(workflow: TrackedWorkflow) => void>();
  invalidChanges = 0;

  constructor(private readonly nats: NatsConnection) {}

  /** Registers the workflow ids of this run. */
  track(workflowIds: Iterable<string>): void {
    for (const workflowId of workflowIds) {
      if (!this.workflows.has(workflowId)) this.workflows.set(workflowId, { workflowId, publishedAtMs: null, settledAtMs: null, doneAtMs: null, last: null, traceId: null });
    }
  }

  /** Calls `listener` on every change of a tracked workflow. */
  onChange(listener: (workflow: TrackedWorkflow) => void): void {
    this.listeners.add(listener);
  }

  /** Starts following changes made from `since` on. */
  async start(since: Date): Promise<void> {
    const consumer = await this.nats.jetstream().consumers.get(STREAMS.workflowChanges.name, {
      filterSubjects: ALL_WORKFLOW_CHANGES,
      deliver_policy: DeliverPolicy.StartTime,
      opt_start_time: since.toISOString(),
    });
    this.messages = await consumer.consume();
    const messages = this.messages;
    this.loop = (async () => {
      for await (const message of messages) {
        let change: WorkflowChanged;
        let workflowId: string;
        try {
          const envelope = decodeEnvelope(message.data);
          change = WorkflowChanged.parse(envelope.payload);
          workflowId = envelope.workflowId;
        } catch {
          this.invalidChanges += 1;
          continue;
        }
        if (change.workflowType === REACT_LOOP) {
          this.trackAgentRun(workflowId, change);
          continue;
        }
        const tracked = this.workflows.get(workflowId);
        if (tracked === undefined) continue;
        if (tracked.last !== null && tracked.last.version >= change.version) continue;
        tracked.last = change;
        tracked.traceId ??= traceIdOfHeaders(message.headers);
        const now = Date.now();
        if (tracked.settledAtMs === null && isSettled(change)) tracked.settledAtMs = now;
        if (tracked.doneAtMs === null && change.status !== 'active') tracked.doneAtMs = now;
        for (const listener of this.listeners) listener(tracked);
      }
    })();
  }

  private trackAgentRun(runId: string, change: WorkflowChanged): void {
    const parentWorkflowId = change.tags.parentWorkflowId;
    if (parentWorkflowId === undefined || !this.workflows.has(parentWorkflowId)) return;
    const previous = this.agentRuns.get(runId);
    if (previous !== undefined && previous.version >= change.version) return;
    this.agentRuns.set(runId, {
      runId,
      parentWorkflowId,
      agent: change.tags.agent ?? 'unknown',
      tokens: Number(change.tags.tokens ?? 0),
      costUsd: Number(change.tags.costUsd ?? 0),
      servedBy: (change.tags.servedBy ?? '').split(',').filter((model) => model !== ''),
      version: change.version,
    });
  }

  /** Counts of tracked workflows that are settled and done. */
  progress(): { total: number; settled: number; done: number } {
    let settled = 0;
    let done = 0;
    for (const workflow of this.workflows.values()) {
      if (workflow.settledAtMs !== null) settled += 1;
      if (workflow.doneAtMs !== null) done += 1;
    }
    return { total: this.workflows.size, settled, done };
  }

  /** Resolves when `predicate()` holds (checked on every change and every 250 ms) or after `timeoutMs` with false. */
  async waitFor(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 250));
    }
    return true;
  }

  async stop(): Promise<void> {
    this.messages?.stop();
    await this.loop;
  }
}
