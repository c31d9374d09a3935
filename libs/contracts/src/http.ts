import { z } from 'zod';
import { Role } from './effects';
import { EventType, WorkflowId } from './envelope';
import { DeadLetter, JournalEntry, PendingApproval, StateValue, WorkflowChanged, WorkflowStatus } from './workflow';

/**
 * Bodies of the gateway's HTTP API (DESIGN.md "Operators over HTTP"): what requests carry and
 * responses answer, shared by the gateway (which parses requests with them and documents both in its
 * OpenAPI document) and its clients (CLI, dashboard). Timestamps are ISO-8601 strings. Errors are RFC
 * 9457 problem details ({@link Problem}).
 */

/** RFC 9457 problem details, `application/problem+json`; `issues` lists validation failures as `path: message`. */
export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string(),
  issues: z.array(z.string()).optional(),
});
export type Problem = z.infer<typeof Problem>;

/** Cursor pagination of every list: `limit` 1–1000 (default 100), `cursor` from the last page's `nextCursor`. */
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
  cursor: z.string().min(1).max(1_000).optional(),
});
export type PageQuery = z.infer<typeof PageQuery>;

/** Query of `GET /workflows`; `tag` is `key:value`. */
export const ListWorkflowsQuery = PageQuery.extend({
  type: z.string().min(1).max(128).optional(),
  status: WorkflowStatus.optional(),
  state: z.string().min(1).max(256).optional(),
  tag: z
    .string()
    .regex(/^[^:]+:.+$/, 'must be key:value')
    .transform((value) => {
      const at = value.indexOf(':');
      return { key: value.slice(0, at), value: value.slice(at + 1) };
    })
    .optional(),
  idPrefix: z.string().max(128).optional(),
  machineVersion: z.string().min(1).max(64).optional(),
  /** ISO-8601 instants (any offset), normalised to UTC `toISOString()` form, which the stores compare. */
  updatedBefore: z.iso.datetime({ offset: true }).transform((value) => new Date(value).toISOString()).optional(),
  updatedAfter: z.iso.datetime({ offset: true }).transform((value) => new Date(value).toISOString()).optional(),
  /** `workflowId` (default), `updatedAt`; a leading `-` sorts descending. */
  sort: z
    .enum(['workflowId', '-workflowId', 'updatedAt', '-updatedAt'])
    .transform((value) => ({ field: value.replace(/^-/, '') as 'workflowId' | 'updatedAt', order: value.startsWith('-') ? ('desc' as const) : ('asc' as const) }))
    .optional(),
});
export type ListWorkflowsQuery = z.infer<typeof ListWorkflowsQuery>;

/** Query of `GET /workflows/counts`: the filters of `GET /workflows`, without sort and paging. */
export const CountWorkflowsQuery = ListWorkflowsQuery.omit({ sort: true, limit: true, cursor: true });
export type CountWorkflowsQuery = z.infer<typeof CountWorkflowsQuery>;

/** `GET /workflows/counts`: how many workflows match, per status and per state path. */
export const WorkflowCounts = z.object({
  total: z.number().int().nonnegative(),
  byStatus: z.record(z.string(), z.number().int().nonnegative()),
  byState: z.record(z.string(), z.number().int().nonnegative()),
});
export type WorkflowCounts = z.infer<typeof WorkflowCounts>;

/** The caller as the gateway authenticated it (`GET /me`). */
export const Me = z.object({ id: z.string(), roles: z.array(Role), via: z.enum(['api-key', 'jwt']) });
export type Me = z.infer<typeof Me>;

/** One workflow in a list. */
export const WorkflowSummary = z.object({
  workflowId: WorkflowId,
  workflowType: z.string(),
  status: WorkflowStatus,
  stateValue: StateValue,
  statePaths: z.array(z.string()),
  version: z.number().int(),
  tags: z.record(z.string(), z.string()),
  pendingApproval: PendingApproval.nullable(),
  /** Version of the machine definition the workflow runs on (`<workflowType>@<machineVersion>`). */
  machineVersion: z.string(),
  updatedAt: z.string(),
  /** The workflow's OpenTelemetry trace id (null when tracing is off). */
  traceId: z.string().nullable(),
});
export type WorkflowSummary = z.infer<typeof WorkflowSummary>;

/** `GET /workflows` */
export const WorkflowListPage = z.object({ items: z.array(WorkflowSummary), nextCursor: z.string().nullable() });
export type WorkflowListPage = z.infer<typeof WorkflowListPage>;

/** `GET /workflows/:id`: the summary plus context, creation time, trace and journal. */
export const WorkflowDetail = WorkflowSummary.extend({
  context: z.unknown(),
  createdAt: z.string(),
  traceId: z.string().nullable(),
  journal: z.array(JournalEntry),
  /** What retention did to this workflow's journal (archived or deleted, when, how many entries); null when nothing. */
  journalRetention: z.unknown().nullable().optional(),
});
export type WorkflowDetail = z.infer<typeof WorkflowDetail>;

/** `GET /workflows/:id/journal` */
export const JournalPage = z.object({ items: z.array(JournalEntry) });
export type JournalPage = z.infer<typeof JournalPage>;

/** Body of `POST /workflows`: starts a workflow of `workflowType` with its start event's payload. */
export const StartWorkflowBody = z.object({
  workflowType: z.string().min(1).max(128),
  /** Generated when absent. */
  workflowId: WorkflowId.optional(),
  payload: z.record(z.string(), z.unknown()),
});
export type StartWorkflowBody = z.infer<typeof StartWorkflowBody>;

/** 202 answer of `POST /workflows`. */
export const WorkflowStarted = z.object({ workflowId: WorkflowId, eventId: z.string(), subject: z.string() });
export type WorkflowStarted = z.infer<typeof WorkflowStarted>;

/** Body of `POST /workflows/:id/events`. `eventId` (the idempotency key) is generated when absent. */
export const SendEventBody = z.object({
  type: EventType,
  payload: z.record(z.string(), z.unknown()),
  eventId: z.string().min(1).max(256).optional(),
});
export type SendEventBody = z.infer<typeof SendEventBody>;

/** 202 answer of `POST /workflows/:id/events` and `/cancel`: the event published. */
export const EventAccepted = z.object({ eventId: z.string(), subject: z.string() });
export type EventAccepted = z.infer<typeof EventAccepted>;

/** Body of `POST /workflows/:id/approvals`. `gateId` defaults to the pending gate; `edited` needs `editedText`. */
export const DecideApprovalBody = z
  .object({
    decision: z.enum(['approved', 'rejected', 'edited']),
    gateId: z.string().min(1).max(256).optional(),
    comment: z.string().max(4_000).optional(),
    editedText: z.string().max(100_000).optional(),
  })
  .refine((body) => body.decision !== 'edited' || (body.editedText ?? '').trim() !== '', {
    path: ['editedText'],
    message: 'required (non-empty) with decision "edited"',
  });
export type DecideApprovalBody = z.infer<typeof DecideApprovalBody>;

/** 202 answer of `POST /workflows/:id/approvals`. */
export const ApprovalAccepted = EventAccepted.extend({ gateId: z.string(), decision: z.enum(['approved', 'rejected', 'edited']) });
export type ApprovalAccepted = z.infer<typeof ApprovalAccepted>;

/** Body of `POST /workflows/:id/cancel`. */
export const CancelWorkflowBody = z.object({ reason: z.string().min(1).max(4_000) });
export type CancelWorkflowBody = z.infer<typeof CancelWorkflowBody>;

/** One entry of the approvals inbox. */
export const ApprovalInboxItem = z.object({
  workflowId: WorkflowId,
  workflowType: z.string(),
  stateValue: StateValue,
  pendingApproval: PendingApproval,
  updatedAt: z.string(),
});
export type ApprovalInboxItem = z.infer<typeof ApprovalInboxItem>;

/** `GET /approvals` */
export const ApprovalInboxPage = z.object({ items: z.array(ApprovalInboxItem), nextCursor: z.string().nullable() });
export type ApprovalInboxPage = z.infer<typeof ApprovalInboxPage>;

/** One dead letter in `GET /dead-letters`; `sequence` (in stream DEAD_LETTERS) is its id. */
export const DeadLetterItem = z.object({ sequence: z.number().int().positive(), subject: z.string(), deadLetter: DeadLetter });
export type DeadLetterItem = z.infer<typeof DeadLetterItem>;

/** `GET /dead-letters` */
export const DeadLetterPage = z.object({ items: z.array(DeadLetterItem), nextCursor: z.string().nullable() });
export type DeadLetterPage = z.infer<typeof DeadLetterPage>;

/** Path parameter of `POST /dead-letters/:sequence/replay`. */
export const DeadLetterSequenceParam = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** 200 answer of `POST /dead-letters/:sequence/replay`. */
export const DeadLetterReplayed = z.object({
  sequence: z.number().int(),
  republishedTo: z.string(),
  msgId: z.string(),
  stream: z.string(),
  streamSequence: z.number().int(),
  duplicate: z.boolean(),
  deadLetter: DeadLetter,
});
export type DeadLetterReplayed = z.infer<typeof DeadLetterReplayed>;

/** `GET /statecharts/:workflowType`: the machine definition (XState `machine.toJSON()`) to draw it. */
export const StatechartView = z.object({
  workflowType: z.string(),
  machineVersion: z.string(),
  startEventType: z.string(),
  /** Event types `POST /workflows/:id/events` accepts for this type (not the start event, decisions or cancels). */
  eventTypes: z.array(z.string()),
  machine: z.record(z.string(), z.unknown()),
});
export type StatechartView = z.infer<typeof StatechartView>;

/**
 * The resume point of `GET /feed` and `GET /workflows/:id/feed`: an SSE event id, which is the change's
 * stream sequence in `WF_CHANGES` as decimal digits (no sign, no exponent, at most
 * `Number.MAX_SAFE_INTEGER`). `0` means "from the first change the stream holds".
 */
export const FeedLastEventId = z
  .string()
  .regex(/^\d{1,16}$/, 'must be a WF_CHANGES stream sequence: decimal digits, as sent in the id: field of a feed event')
  .transform(Number)
  .refine(Number.isSafeInteger, 'must be at most 9007199254740991');

/** `data` of one SSE `workflow.changed` event of `GET /feed` and `GET /workflows/:id/feed`. */
export const WorkflowChangedEvent = WorkflowChanged.extend({ workflowId: WorkflowId });
export type WorkflowChangedEvent = z.infer<typeof WorkflowChangedEvent>;
