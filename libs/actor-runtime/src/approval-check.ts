import { APPROVAL_DECIDED, ApprovalDecided, type PendingApproval, type StateValue } from '@troupe/contracts';

/**
 * Why the runtime refuses an `approval.decided` before the machine sees it, or null when the decision
 * fits the record's pending gate (the machine's guards then have the final word). Checked generically
 * from the record's `pendingApproval` (gate id and allowed roles), so every workflow type gets the same
 * reasons in its journal:
 * - no gate is pending (already decided, expired, or never requested): a second decision is rejected;
 * - the decision names another gate than the pending one;
 * - none of the approver's roles is allowed at the pending gate.
 *
 * Events of other types, and decisions whose payload is not an {@link ApprovalDecided} (a definition
 * with its own decision schema), pass through unchecked (null).
 *
 * So a machine's gate states must carry the tag `approval` and emit an `approval.request` effect on
 * entry: that is what makes the runtime record `pendingApproval`; a decision for an untagged gate is
 * refused as not pending.
 */
export function approvalDecisionRejection(
  event: { type: string; payload?: unknown },
  pending: PendingApproval | null,
  stateValue: StateValue,
): string | null {
  if (event.type !== APPROVAL_DECIDED) return null;
  const parsed = ApprovalDecided.safeParse(event.payload);
  if (!parsed.success) return null;
  const { gateId, approver } = parsed.data;
  if (pending === null) {
    return `gate ${gateId} is not pending: no approval is pending in state ${JSON.stringify(stateValue)} (already decided, expired, or never requested)`;
  }
  if (pending.gateId !== gateId) {
    return `gate ${gateId} is not the pending gate: ${pending.gateId} (${pending.gate}) is pending`;
  }
  if (!approver.roles.some((role) => pending.allowedRoles.includes(role))) {
    return `${approver.id} (roles ${approver.roles.join(', ')}) may not decide gate ${pending.gate}: allowed roles are ${pending.allowedRoles.join(', ')}`;
  }
  return null;
}
