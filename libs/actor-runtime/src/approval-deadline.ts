import type { AnyMachineSnapshot, AnyStateNode } from 'xstate';
import type { PendingApproval } from '@troupe/contracts';
import type { ActiveTimer } from '@troupe/persistence';
import { statePaths } from './state-paths';

/** The deadline part of a {@link PendingApproval}: see `deadlineAt` and `onDeadline` there. */
export type ApprovalDeadline = Pick<PendingApproval, 'deadlineAt' | 'onDeadline'>;

const NO_DEADLINE: ApprovalDeadline = { deadlineAt: null, onDeadline: null };

/**
 * The deadline of the approval gate `snapshot` waits at, from the timers actually scheduled: the
 * earliest active timer whose event is the delayed (`after`) event of an active state node tagged
 * `approval`, with the target of that delayed transition. A gate whose state scheduled no timer (no
 * `after`, or its timer was cancelled) has no deadline. Pure: reads the machine definition only.
 */
export function approvalDeadline(snapshot: AnyMachineSnapshot, timers: readonly ActiveTimer[]): ApprovalDeadline {
  if (!snapshot.hasTag('approval') || timers.length === 0) return NO_DEADLINE;
  const activePaths = statePaths(snapshot.value as never);
  const isActive = (node: AnyStateNode) => activePaths.includes(node.path.join('.'));
  // Each delayed transition of an active gate state, by the event type its timer carries.
  const gateTransitions = new Map<string, AnyStateNode['after']>();
  const visit = (node: AnyStateNode) => {
    if (node.path.length > 0 && !isActive(node)) return;
    if (node.tags.includes('approval')) {
      for (const delayed of node.after) gateTransitions.set(String(delayed.eventType), [...(gateTransitions.get(String(delayed.eventType)) ?? []), delayed]);
    }
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(snapshot.machine.root);
  const due = timers.filter((timer) => gateTransitions.has(timer.event.type)).sort((a, b) => Date.parse(a.dueAt) - Date.parse(b.dueAt))[0];
  if (due === undefined) return NO_DEADLINE;
  const targets = new Set((gateTransitions.get(due.event.type) ?? []).map((delayed) => (delayed.target ?? []).map((node) => node.path.join('.')).join(',')));
  const [target] = targets;
  return { deadlineAt: due.dueAt, onDeadline: targets.size === 1 && target !== '' ? target : null };
}
