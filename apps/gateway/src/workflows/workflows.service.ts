import { BadRequestException, ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { publishEnvelope } from '@troupe/bus';
import {
  APPROVAL_DECIDED,
  SchemaValidationError,
  WORKFLOW_CANCEL_REQUESTED,
  formatIssues,
  workflowEventTypeSubject,
  type ApprovalDecided,
  type CancelWorkflowBody,
  type CountWorkflowsQuery,
  type DecideApprovalBody,
  type Envelope,
  type JournalEntry,
  type ListWorkflowsQuery,
  type PendingApproval,
  type SendEventBody,
  type StartWorkflowBody,
  type WorkflowCancelRequested,
  type WorkflowSummary,
} from '@troupe/contracts';
import type { WorkflowFilter, WorkflowRecord } from '@troupe/persistence';
import type { WorkflowCatalogEntry } from '@troupe/statecharts';
import { TROUPE_ATTRIBUTES, setActiveSpanAttributes, withTraceParent } from '@troupe/telemetry';
import type { Principal } from '../auth/principal';
import { GATEWAY_PORTS, type GatewayPorts } from '../ports';

// The ports used to live here; code written against that path keeps working.
export { GATEWAY_PORTS, type GatewayPorts } from '../ports';

/** Event types only their own routes publish, with the caller's identity: never through `/events`. */
const IDENTITY_EVENTS: Record<string, string> = {
  [APPROVAL_DECIDED]: 'POST /workflows/:id/approvals',
  [WORKFLOW_CANCEL_REQUESTED]: 'POST /workflows/:id/cancel',
};

/**
 * A stored pending approval as the API shows it: a record written before gates had deadlines holds no
 * `deadlineAt` / `onDeadline`, which read as null (no deadline known).
 */
export function pendingApprovalView(pending: PendingApproval): PendingApproval {
  return { ...pending, deadlineAt: pending.deadlineAt ?? null, onDeadline: pending.onDeadline ?? null };
}

/** The list view of a record. */
export function summaryOf(record: WorkflowRecord): WorkflowSummary {
  return {
    workflowId: record.workflowId,
    workflowType: record.workflowType,
    status: record.status,
    stateValue: record.stateValue,
    statePaths: record.statePaths,
    version: record.version,
    tags: record.tags,
    pendingApproval: record.pendingApproval === null ? null : pendingApprovalView(record.pendingApproval),
    machineVersion: record.machineVersion,
    updatedAt: record.updatedAt,
    /** The workflow's OpenTelemetry trace id (null when tracing was off); look it up in Jaeger. */
    traceId: record.traceId,
  };
}

/** The store filter of the HTTP query (`type` is `workflowType`). */
function filterOf(query: CountWorkflowsQuery): WorkflowFilter {
  return {
    workflowType: query.type,
    machineVersion: query.machineVersion,
    status: query.status,
    state: query.state,
    tag: query.tag,
    idPrefix: query.idPrefix,
    updatedBefore: query.updatedBefore,
    updatedAfter: query.updatedAfter,
  };
}

/** Operator queries and commands over workflows. Commands only publish events; the workflow decides. */
@Injectable()
export class WorkflowsService {
  constructor(@Inject(GATEWAY_PORTS) private readonly ports: GatewayPorts) {}

  /** @throws BadRequestException for a cursor no previous page returned. */
  async list(query: ListWorkflowsQuery) {
    try {
      const page = await this.ports.store.list({ ...filterOf(query), sort: query.sort, limit: query.limit, cursor: query.cursor });
      return { items: page.items.map(summaryOf), nextCursor: page.nextCursor };
    } catch (error) {
      throw badCursor(error);
    }
  }

  /** Counts per status and per state path of the workflows the filters match. */
  async counts(query: CountWorkflowsQuery) {
    return this.ports.store.count(filterOf(query));
  }

  /** @throws NotFoundException when no such workflow exists. */
  async get(workflowId: string) {
    const record = await this.loadOrNotFound(workflowId);
    const persisted = record.snapshot as { context?: unknown };
    return { ...summaryOf(record), context: persisted.context ?? null, createdAt: record.createdAt, traceId: record.traceId, journal: await this.journalOf(record), journalRetention: record.journalRetention ?? null };
  }

  /** @throws NotFoundException when no such workflow exists. */
  async journal(workflowId: string) {
    return { items: await this.journalOf(await this.loadOrNotFound(workflowId)) };
  }

  /**
   * Publishes the start event of `body.workflowType` (id `<workflowId>:<startEventType>`, so a repeat
   * within JetStream's duplicate window starts one workflow).
   *
   * @throws NotFoundException for an unknown workflow type; BadRequestException when the payload fails the
   *   start event's schema; ConflictException when the workflow id exists.
   */
  async start(body: StartWorkflowBody, principal: Principal) {
    const entry = this.ports.catalog.find((candidate) => candidate.workflowType === body.workflowType);
    if (entry === undefined) {
      throw new NotFoundException({ title: 'Unknown workflow type', message: `no workflow type ${body.workflowType}; known: ${this.ports.catalog.map((e) => e.workflowType).join(', ')}` });
    }
    const payload = parsePayload(entry, entry.startEventType, body.payload);
    const workflowId = body.workflowId ?? `${entry.workflowType}-${this.ports.newId()}`;
    if ((await this.ports.store.load(workflowId)) !== null) {
      throw new ConflictException({ title: 'Workflow exists', message: `workflow ${workflowId} already exists` });
    }
    const envelope: Envelope = {
      id: `${workflowId}:${entry.startEventType}`,
      type: entry.startEventType,
      workflowId,
      correlationId: workflowId,
      causationId: null,
      occurredAt: this.ports.now().toISOString(),
      source: `gateway/${principal.id}`.slice(0, 128),
      payload,
    };
    const subject = workflowEventTypeSubject(workflowId, envelope.type);
    // Inside the request's server span: the new workflow's trace starts there (or in the caller's trace).
    setActiveSpanAttributes(() => ({ [TROUPE_ATTRIBUTES.workflowId]: workflowId }));
    await publishEnvelope(this.ports.js, subject, envelope, { msgId: envelope.id });
    return { workflowId, eventId: envelope.id, subject };
  }

  /**
   * Publishes an event into a workflow after checking its type and payload against the workflow's
   * catalog entry.
   *
   * @throws NotFoundException (no workflow); BadRequestException (type not accepted by the workflow type,
   *   an identity-carrying or start type, a payload failing its schema, or an event id reserved for the
   *   workflow's own events); ConflictException (finished).
   */
  async send(workflowId: string, body: SendEventBody, principal: Principal) {
    const record = await this.loadOrNotFound(workflowId);
    const entry = this.entryOf(record);
    const dedicated = IDENTITY_EVENTS[body.type];
    if (dedicated !== undefined) throw new BadRequestException({ title: 'Use the dedicated route', message: `${body.type} carries the caller's identity: use ${dedicated}` });
    if (body.type === entry.startEventType) throw new BadRequestException({ title: 'Start event', message: `${body.type} starts a workflow: use POST /workflows` });
    // Ids of the form `<workflowId>:…` belong to the runtime and the agents (effect results, timers,
    // the start event): a client's event must not take one and make the real one a duplicate.
    if (body.eventId?.startsWith(`${workflowId}:`)) {
      throw new BadRequestException({ title: 'Invalid body', issues: [`eventId: must not start with "${workflowId}:" (reserved for the workflow's own events)`] });
    }
    const payload = parsePayload(entry, body.type, body.payload);
    if (record.status !== 'active') throw finished(record);
    return this.publishToWorkflow(record, body.type, payload, principal, body.eventId);
  }

  /**
   * Publishes the caller's decision as `approval.decided` into the workflow, with the authenticated
   * principal as approver; the runtime and the machine decide whether it is accepted (pending gate,
   * role), and the journal records either way.
   *
   * @throws NotFoundException when the workflow does not exist; ConflictException when it has no pending approval.
   */
  async decide(workflowId: string, body: DecideApprovalBody, principal: Principal) {
    const record = await this.loadOrNotFound(workflowId);
    if (record.pendingApproval === null) {
      throw new ConflictException({ title: 'No pending approval', message: `workflow ${workflowId} is ${record.status} in ${JSON.stringify(record.stateValue)} with no pending approval` });
    }
    const gateId = body.gateId ?? record.pendingApproval.gateId;
    const decision: ApprovalDecided = {
      gateId,
      decision: body.decision,
      approver: { id: principal.id, roles: principal.roles },
      comment: body.comment ?? null,
      editedText: body.editedText ?? null,
    };
    const { eventId, subject } = await this.publishToWorkflow(record, APPROVAL_DECIDED, decision, principal);
    return { eventId, subject, gateId, decision: body.decision };
  }

  /**
   * Publishes `workflow.cancel_requested` with the caller's identity; the machine decides.
   *
   * @throws NotFoundException when the workflow does not exist; ConflictException when it is already finished.
   */
  async cancel(workflowId: string, body: CancelWorkflowBody, principal: Principal) {
    const record = await this.loadOrNotFound(workflowId);
    if (record.status !== 'active') throw finished(record);
    const payload: WorkflowCancelRequested = { reason: body.reason, requestedBy: { id: principal.id, roles: principal.roles } };
    return this.publishToWorkflow(record, WORKFLOW_CANCEL_REQUESTED, payload, principal);
  }

  /** @throws NotFoundException when no such workflow exists. */
  private async loadOrNotFound(workflowId: string): Promise<WorkflowRecord> {
    const record = await this.ports.store.load(workflowId);
    if (record === null) throw new NotFoundException({ title: 'Workflow not found', message: `no workflow ${workflowId}` });
    return record;
  }

  /**
   * The journal up to the record's version: the snapshot is written before its journal entry is
   * appended, and the record's pending entries close that gap.
   */
  private async journalOf(record: WorkflowRecord): Promise<JournalEntry[]> {
    const appended = await this.ports.journal.read(record.workflowId);
    const seen = new Set(appended.map((entry) => entry.seq));
    return [...appended, ...record.pendingJournal.filter((entry) => !seen.has(entry.seq))].sort((a, b) => a.seq - b.seq);
  }

  /** @throws BadRequestException when the catalog does not know the record's type (nothing can be checked). */
  private entryOf(record: WorkflowRecord): WorkflowCatalogEntry {
    const entry = this.ports.catalog.find((candidate) => candidate.workflowType === record.workflowType);
    if (entry === undefined) throw new BadRequestException({ title: 'Unknown workflow type', message: `the gateway does not know workflow type ${record.workflowType}` });
    return entry;
  }

  /**
   * Publishes an event from the gateway into the workflow of `record` (no cause; source names the
   * caller), as a continuation of the workflow's trace (its stored `traceParent`), so one workflow keeps
   * one trace; the publish span and the request's HTTP server span link to each other. A workflow
   * without a stored trace continues the request's trace.
   */
  private async publishToWorkflow(record: WorkflowRecord, type: string, payload: unknown, principal: Principal, eventId?: string): Promise<{ eventId: string; subject: string }> {
    const envelope: Envelope = {
      id: eventId ?? this.ports.newId(),
      type,
      workflowId: record.workflowId,
      correlationId: record.correlationId,
      causationId: null,
      occurredAt: this.ports.now().toISOString(),
      source: `gateway/${principal.id}`.slice(0, 128),
      payload,
    };
    const subject = workflowEventTypeSubject(record.workflowId, envelope.type);
    setActiveSpanAttributes(() => ({ [TROUPE_ATTRIBUTES.workflowId]: record.workflowId }));
    await withTraceParent(record.traceParent, (links) => publishEnvelope(this.ports.js, subject, envelope, { msgId: envelope.id, links }));
    return { eventId: envelope.id, subject };
  }
}

/** @throws BadRequestException naming every issue when `payload` fails the schema of `type` in `entry`. */
function parsePayload(entry: WorkflowCatalogEntry, type: string, payload: unknown): unknown {
  const schema = entry.events[type];
  if (schema === undefined) {
    throw new BadRequestException({ title: 'Event type not accepted', message: `workflow type ${entry.workflowType} accepts no ${type} events; it accepts ${Object.keys(entry.events).join(', ')}` });
  }
  const parsed = schema.safeParse(payload);
  if (!parsed.success) throw new BadRequestException({ title: `Invalid ${type} payload`, issues: formatIssues(parsed.error).map((issue) => `payload.${issue}`) });
  return parsed.data;
}

function finished(record: WorkflowRecord): ConflictException {
  return new ConflictException({ title: 'Workflow finished', message: `workflow ${record.workflowId} is ${record.status} in ${JSON.stringify(record.stateValue)}` });
}

/** A store's refusal of a cursor is the client's mistake (400); anything else passes on. */
export function badCursor(error: unknown): unknown {
  if (error instanceof SchemaValidationError) return new BadRequestException({ title: 'Invalid cursor', issues: error.issues.map((issue) => `cursor: ${issue}`) });
  return error;
}
