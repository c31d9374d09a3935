import { z } from 'zod';
import { StateValue } from '@troupe/contracts';

// Response bodies as the CLI reads them: the gateway's own schemas from @troupe/contracts (the same ones
// its OpenAPI document at /docs is made from), plus the replay answer, which the contracts do not hold yet.
export {
  Problem,
  Me,
  WorkflowSummary,
  WorkflowListPage as WorkflowPage,
  WorkflowDetail,
  JournalPage,
  ApprovalInboxItem as ApprovalItem,
  ApprovalInboxPage as ApprovalPage,
  DeadLetterItem,
  DeadLetterPage,
  DeadLetterReplayed,
  ApprovalAccepted as DecisionAccepted,
  EventAccepted,
  WorkflowChangedEvent as FeedChange,
  ScheduleView,
  SchedulePage,
} from '@troupe/contracts';

/**
 * `GET /workflows/:id/replay?step=N` (issue 4): the state rebuilt from the journal at step N and whether
 * it matches what was journaled. Loose and mostly optional: the contracts do not hold this body yet, and
 * the whole body is printed with --json as the server sent it.
 */
export const ReplayResult = z.looseObject({
  workflowId: z.string().optional(),
  step: z.number().int().optional(),
  lastStep: z.number().int().optional(),
  machineVersion: z.union([z.string(), z.number()]).optional(),
  stateValue: StateValue.optional(),
  status: z.string().optional(),
  context: z.unknown().optional(),
  matchesSnapshot: z.boolean().optional(),
  mismatches: z.array(z.unknown()).optional(),
});
export type ReplayResult = z.infer<typeof ReplayResult>;
