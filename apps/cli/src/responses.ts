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
} from '@troupe/contracts';

/**
 * `GET /workflows/:id/replay?step=N` (issue 4): the state after journal step N. Only `stateValue` is
 * read; the whole body is printed as the server sent it.
 */
export const ReplayResult = z.looseObject({ stateValue: StateValue.optional() });
