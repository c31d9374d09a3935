import { z } from 'zod';
import { Role } from './effects';
import { WorkflowId } from './envelope';

/** Lifecycle of a workflow actor, as XState reports it. */
export const WorkflowStatus = z.enum(['active', 'done', 'error', 'stopped']);
export type WorkflowStatus = z.infer<typeof WorkflowStatus>;

/** A state value as XState has it: a leaf name, or a nested object for compound/parallel states. */
export type StateValue = string | { [key: string]: StateValue };
export const StateValue: z.ZodType<StateValue> = z.lazy(() => z.union([z.string(), z.record(z.string(), StateValue)]));

/** One human decision pending at a gate. */
export const PendingApproval = z.object({
  gateId: z.string(),
  gate: z.string(),
  proposed: z.unknown(),
  reason: z.string(),
  allowedRoles: z.array(Role),
  requestedAt: z.iso.datetime({ offset: true }),
  /**
   * When the gate's deadline passes: the due time (ISO-8601 UTC) of the durable timer the gate's state
   * scheduled (an XState `after` delay), or null when the gate has no deadline. Records written before
   * this field read as null.
   */
  deadlineAt: z.iso.datetime({ offset: true }).nullable().default(null),
  /**
   * What happens at `deadlineAt`: the dotted path of the state the gate's delayed transition goes to
   * (e.g. `escalated`, `reviewEscalated`, `quarantining`), or null without a deadline or when the
   * transition has no single target (guarded alternatives, or actions only).
   */
  onDeadline: z.string().nullable().default(null),
});
export type PendingApproval = z.infer<typeof PendingApproval>;

/** `workflow.changed`: published on `troupe.changes.<workflowId>` after every persisted transition. */
export const WORKFLOW_CHANGED = 'workflow.changed';
export const WorkflowChanged = z.object({
  workflowType: z.string(),
  version: z.number().int().nonnegative(),
  status: WorkflowStatus,
  stateValue: StateValue,
  /** Dotted leaf paths of the state value, e.g. `["awaitingApproval"]`. */
  statePaths: z.array(z.string()),
  eventType: z.string(),
  /** Small, indexed facts the machine exposes (label, route, …). */
  tags: z.record(z.string(), z.string()),
  pendingApproval: PendingApproval.nullable(),
});
export type WorkflowChanged = z.infer<typeof WorkflowChanged>;

/** `approval.decided`: a human's decision at a gate, published as an event into the workflow. */
export const APPROVAL_DECIDED = 'approval.decided';
export const ApprovalDecided = z.object({
  gateId: z.string().min(1).max(256),
  decision: z.enum(['approved', 'rejected', 'edited']),
  approver: z.object({ id: z.string().min(1).max(256), roles: z.array(Role).min(1) }),
  comment: z.string().max(4_000).nullable().default(null),
  /** With `edited`: the human's version of what was proposed (e.g. the reply body). */
  editedText: z.string().max(100_000).nullable().default(null),
});
export type ApprovalDecided = z.infer<typeof ApprovalDecided>;

/** What a dead letter carries: where it came from, why it failed, and the original bytes. */
export const DEAD_LETTERED = 'message.dead_lettered';
export const DeadLetter = z.object({
  origin: z.object({
    stream: z.string().nullable(),
    consumer: z.string().nullable(),
    subject: z.string(),
    streamSequence: z.number().int().nullable(),
  }),
  reason: z.string(),
  errorCode: z.string(),
  issues: z.array(z.string()),
  deliveryCount: z.number().int().nonnegative(),
  headers: z.record(z.string(), z.array(z.string())),
  /** The original message body, base64 (its first `DEAD_LETTER_MAX_DATA_BYTES` when `dataTruncated`). */
  dataBase64: z.string(),
  /** Size of the original body, bytes (absent in dead letters written before it was recorded). */
  dataBytes: z.number().int().nonnegative().optional(),
  /** True when the body was cut to fit the dead letter under the server's max_payload; such a letter cannot be replayed. */
  dataTruncated: z.boolean().optional(),
  deadLetteredAt: z.iso.datetime({ offset: true }),
});
export type DeadLetter = z.infer<typeof DeadLetter>;

/** One entry of a workflow's journal: an applied event and what it did. `seq` equals the new version. */
export const JournalEntry = z.object({
  workflowId: WorkflowId,
  workflowType: z.string(),
  seq: z.number().int().positive(),
  eventId: z.string(),
  eventType: z.string(),
  event: z.unknown(),
  fromStateValue: StateValue.nullable(),
  stateValue: StateValue,
  status: WorkflowStatus,
  effects: z.array(z.object({ id: z.string(), kind: z.string(), subject: z.string() })),
  /** Why an event was received but not applied (e.g. not allowed in this state); null when applied. */
  rejection: z.string().nullable(),
  appliedAt: z.iso.datetime({ offset: true }),
  traceId: z.string().nullable(),
  /** Version of the machine definition the step ran on (after a migration: the version migrated to). */
  machineVersion: z.string().optional(),
  /**
   * `sha256:<hex>` of the canonical JSON (keys sorted) of the persisted snapshot after this step: what
   * replay checks a rebuilt step against (the snapshot store keeps only the latest snapshot).
   */
  snapshotDigest: z.string().optional(),
  /** On the start entry (seq 1): the machine input, so replay needs no configuration of the host. */
  input: z.unknown().optional(),
  /**
   * The persisted snapshot itself, on entries not made by a transition (`workflow.migrated`): replay
   * takes it as it is rather than running migration code again.
   */
  snapshot: z.unknown().optional(),
  /** On entries copied into a fork: the workflow and step they were copied from. */
  forkedFrom: z.object({ workflowId: WorkflowId, seq: z.number().int().positive() }).optional(),
});
export type JournalEntry = z.infer<typeof JournalEntry>;

/**
 * `workflow.cancel_requested`: asks a workflow to stop. Machines accept it in every non-final state and
 * run their compensations (saga style) for irreversible effects already done.
 */
export const WORKFLOW_CANCEL_REQUESTED = 'workflow.cancel_requested';
export const WorkflowCancelRequested = z.object({
  reason: z.string().min(1).max(4_000),
  requestedBy: z.object({ id: z.string().min(1).max(256), roles: z.array(Role).min(1) }),
});
export type WorkflowCancelRequested = z.infer<typeof WorkflowCancelRequested>;

/** `workflow.migrated`: journal event type of a step that moved a running instance to another machine version. */
export const WORKFLOW_MIGRATED = 'workflow.migrated';
