import { z } from 'zod';
import { DeadLetter, JournalEntry, PendingApproval, Role, StateValue, WorkflowStatus } from '@troupe/contracts';

// Response bodies of the gateway's HTTP API as the CLI reads them (docs: the gateway's /docs). Objects are
// loose: a newer gateway may add fields, and the CLI prints with --json whatever the server sent.

/** RFC 9457 problem details, as the gateway answers every error. */
export const Problem = z.looseObject({
  type: z.string().default('about:blank'),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  issues: z.array(z.string()).optional(),
});
export type Problem = z.infer<typeof Problem>;

/** One workflow in `GET /workflows`. */
export const WorkflowSummary = z.looseObject({
  workflowId: z.string(),
  workflowType: z.string(),
  status: WorkflowStatus,
  stateValue: StateValue,
  statePaths: z.array(z.string()),
  version: z.number().int().nonnegative(),
  tags: z.record(z.string(), z.string()),
  pendingApproval: PendingApproval.nullable(),
  updatedAt: z.string(),
});
export type WorkflowSummary = z.infer<typeof WorkflowSummary>;

/** `GET /workflows/:id`. */
export const WorkflowDetail = WorkflowSummary.extend({
  context: z.unknown(),
  createdAt: z.string(),
  traceId: z.string().nullable().optional(),
  journal: z.array(JournalEntry),
});
export type WorkflowDetail = z.infer<typeof WorkflowDetail>;

/** A cursor page `{ items, nextCursor }`. */
export function page<T extends z.ZodType>(item: T) {
  return z.looseObject({ items: z.array(item), nextCursor: z.string().nullable().default(null) });
}

export const WorkflowPage = page(WorkflowSummary);
export type WorkflowPage = z.infer<typeof WorkflowPage>;

/** `GET /workflows/:id/journal`. */
export const JournalPage = z.looseObject({ items: z.array(JournalEntry) });

/** One item of `GET /approvals`. */
export const ApprovalItem = z.looseObject({
  workflowId: z.string(),
  workflowType: z.string(),
  stateValue: StateValue,
  pendingApproval: PendingApproval,
  updatedAt: z.string(),
});
export type ApprovalItem = z.infer<typeof ApprovalItem>;
export const ApprovalPage = page(ApprovalItem);

/** One item of `GET /dead-letters`. */
export const DeadLetterItem = z.looseObject({ sequence: z.number().int().nonnegative(), subject: z.string(), deadLetter: DeadLetter });
export type DeadLetterItem = z.infer<typeof DeadLetterItem>;
export const DeadLetterPage = page(DeadLetterItem);

/** 202 of `POST /workflows/:id/approvals`. */
export const DecisionAccepted = z.looseObject({ eventId: z.string(), subject: z.string(), gateId: z.string(), decision: z.string() });

/** 202 of `POST /workflows/:id/events`. */
export const EventAccepted = z.looseObject({ eventId: z.string(), subject: z.string() });

/** 200 of `POST /dead-letters/:sequence/replay`. */
export const DeadLetterReplayed = z.looseObject({ sequence: z.number().int(), republishedTo: z.string() });

/** `GET /me`. */
export const Me = z.looseObject({ id: z.string(), roles: z.array(Role), via: z.string() });

/** `GET /workflows/:id/replay?step=N` (issue 4): the state after step N; the rest is printed as sent. */
export const ReplayResult = z.looseObject({ stateValue: StateValue.optional() });

/** `data` of a `workflow.changed` SSE event on `/feed` and `/workflows/:id/feed`. */
export const FeedChange = z.looseObject({
  workflowId: z.string(),
  workflowType: z.string(),
  version: z.number().int(),
  status: WorkflowStatus,
  stateValue: StateValue,
  statePaths: z.array(z.string()),
  eventType: z.string(),
  pendingApproval: PendingApproval.nullable().optional(),
});
export type FeedChange = z.infer<typeof FeedChange>;
