import type { Envelope, StateValue, WorkflowStatus } from '@troupe/contracts';
import type { WorkflowRecord } from '@troupe/persistence';
import { TROUPE_ATTRIBUTES, currentTraceId, currentTraceParent, recordWorkflowFinished, recordWorkflowStarted, setActiveSpanAttributes } from '@troupe/telemetry';

/** What a step tells its span and metrics once it knows: the workflow type and the outcome kind. */
export interface StepFacts {
  workflowType: string;
  outcome: 'applied' | 'rejected' | 'duplicate' | 'error';
}

function stateText(value: StateValue | null): string {
  if (value === null) return '(none)';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Describes the step on the active `workflow.transition` span: workflow type and id, from and to
 * state (the small state value, never the snapshot), event type and id, version, status, rejection.
 * Builds nothing when the span does not record.
 */
export function describeTransition(step: {
  envelope: Envelope;
  workflowType: string;
  from: StateValue | null;
  to: StateValue;
  version: number;
  status: WorkflowStatus;
  rejection: string | null;
}): void {
  setActiveSpanAttributes(() => ({
    [TROUPE_ATTRIBUTES.workflowType]: step.workflowType,
    [TROUPE_ATTRIBUTES.workflowId]: step.envelope.workflowId,
    [TROUPE_ATTRIBUTES.fromState]: stateText(step.from),
    [TROUPE_ATTRIBUTES.toState]: stateText(step.to),
    [TROUPE_ATTRIBUTES.eventType]: step.envelope.type,
    [TROUPE_ATTRIBUTES.eventId]: step.envelope.id,
    [TROUPE_ATTRIBUTES.version]: step.version,
    [TROUPE_ATTRIBUTES.status]: step.status,
    [TROUPE_ATTRIBUTES.outcome]: step.rejection === null ? 'applied' : 'rejected',
    ...(step.rejection !== null ? { [TROUPE_ATTRIBUTES.rejection]: step.rejection } : {}),
  }));
}

/**
 * Counts a workflow started (its first step) and finished (its step into a final state): failed when
 * the status is `error` or the final state is named `failed`, completed otherwise.
 */
export function recordWorkflowOutcome(workflowType: string, previous: WorkflowRecord | null, status: WorkflowStatus, paths: string[]): void {
  if (previous === null) recordWorkflowStarted(workflowType);
  if ((previous === null || previous.status === 'active') && status !== 'active') {
    const finalState = paths[paths.length - 1] ?? status;
    recordWorkflowFinished(workflowType, finalState, status === 'error' || finalState === 'failed');
  }
}

/**
 * The `traceParent` to store with the next record: this step's span when it is in the workflow's
 * trace (or starts it), else the one stored before (a step from another trace does not take over).
 */
export function nextTraceParent(previous: WorkflowRecord | null): string | null {
  const traceId = currentTraceId();
  if (traceId !== null && (previous === null || previous.traceId === null || previous.traceId === traceId)) return currentTraceParent();
  return previous?.traceParent ?? null;
}
