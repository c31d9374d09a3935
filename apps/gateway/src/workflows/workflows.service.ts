import { ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { publishEnvelope } from '@troupe/bus';
import {
  APPROVAL_DECIDED,
  WORKFLOW_CANCEL_REQUESTED,
  workflowEventSubject,
  type ApprovalDecided,
  type Envelope,
  type Role,
  type WorkflowCancelRequested,
} from '@troupe/contracts';
import type { Journal, SnapshotStore, WorkflowRecord } from '@troupe/persistence';
import { withTraceParent } from '@troupe/telemetry';
import type { JetStreamClient } from 'nats';
import type { CancelWorkflowBody, DecideApprovalBody, ListWorkflowsQuery } from './workflows.schemas';

/** Injection tokens of the gateway's ports. */
export const GATEWAY_PORTS = Symbol('GATEWAY_PORTS');

/** What the gateway reads and writes through. It reads the read model and writes only by publishing events. */
export interface GatewayPorts {
  store: SnapshotStore;
  journal: Journal;
  js: JetStreamClient;
  principal: { id: string; roles: Role[] };
  now: () => Date;
}

/** Summary of a workflow in a list. */
function summary(record: WorkflowRecord) {
  return {
    workflowId: record.workflowId,
    workflowType: record.workflowType,
    status: record.status,
    stateValue: record.stateValue,
    statePaths: record.statePaths,
    version: record.version,
    tags: record.tags,
    pendingApproval: record.pendingApproval,
    updatedAt: record.updatedAt,
    /** The workflow's OpenTelemetry trace id (null when tracing was off); look it up in Jaeger. */
    traceId: record.traceId,
  };
}

/** Operator queries and commands over workflows. */
@Injectable()
export class WorkflowsService {
  constructor(@Inject(GATEWAY_PORTS) private readonly ports: GatewayPorts) {}

  async list(query: ListWorkflowsQuery) {
    const page = await this.ports.store.list({
      workflowType: query.type,
      status: query.status,
      state: query.state,
      tag: query.tag,
      idPrefix: query.idPrefix,
      limit: query.limit,
      cursor: query.cursor,
    });
    return { items: page.items.map(summary), nextCursor: page.nextCursor };
  }

  /** @throws NotFoundException when no such workflow exists. */
  async get(workflowId: string) {
    const record = await this.loadOrNotFound(workflowId);
    // The snapshot is written before its journal entry is appended; the record's pending entries close
    // that gap, so the journal shown always reaches the state shown.
    const appended = await this.ports.journal.read(workflowId);
    const seen = new Set(appended.map((entry) => entry.seq));
    const journal = [...appended, ...record.pendingJournal.filter((entry) => !seen.has(entry.seq))].sort((a, b) => a.seq - b.seq);
    const persisted = record.snapshot as { context?: unknown };
    return { ...summary(record), context: persisted.context ?? null, createdAt: record.createdAt, journal };
  }

  /**
   * Publishes the caller's decision as an `approval.decided` event into the workflow; the workflow
   * decides whether it is accepted (role, gate), and the journal records either way.
   *
   * @throws NotFoundException when the workflow does not exist; ConflictException when it has no pending approval.
   */
  async decide(workflowId: string, body: DecideApprovalBody) {
    const record = await this.loadOrNotFound(workflowId);
    const gateId = body.gateId ?? record.pendingApproval?.gateId;
    if (gateId === undefined) {
      throw new ConflictException({ title: 'No pending approval', message: `workflow ${workflowId} is in ${JSON.stringify(record.stateValue)}` });
    }
    const decision: ApprovalDecided = {
      gateId,
      decision: body.decision,
      approver: this.ports.principal,
      comment: body.comment ?? null,
      editedText: body.editedText ?? null,
    };
    const { eventId, subject } = await this.publishToWorkflow(record, APPROVAL_DECIDED, decision);
    return { eventId, subject, gateId, decision: body.decision };
  }

  /**
   * Publishes `workflow.cancel_requested` into the workflow with the caller's identity; the machine
   * decides (a finished workflow journals it as rejected).
   *
   * @throws NotFoundException when the workflow does not exist; ConflictException when it is already finished.
   */
  async cancel(workflowId: string, body: CancelWorkflowBody) {
    const record = await this.loadOrNotFound(workflowId);
    if (record.status !== 'active') {
      throw new ConflictException({ title: 'Workflow finished', message: `workflow ${workflowId} is ${record.status} in ${JSON.stringify(record.stateValue)}` });
    }
    const payload: WorkflowCancelRequested = { reason: body.reason, requestedBy: this.ports.principal };
    return this.publishToWorkflow(record, WORKFLOW_CANCEL_REQUESTED, payload);
  }

  /** @throws NotFoundException when no such workflow exists. */
  private async loadOrNotFound(workflowId: string): Promise<WorkflowRecord> {
    const record = await this.ports.store.load(workflowId);
    if (record === null) throw new NotFoundException({ title: 'Workflow not found', message: `no workflow ${workflowId}` });
    return record;
  }

  /**
   * Publishes an event from the gateway into the workflow of `record` (a fresh id, no cause), as a
   * continuation of the workflow's trace (its stored `traceParent`), so one workflow keeps one trace.
   */
  private async publishToWorkflow(record: WorkflowRecord, type: string, payload: unknown): Promise<{ eventId: string; subject: string }> {
    const envelope: Envelope = {
      id: randomUUID(),
      type,
      workflowId: record.workflowId,
      correlationId: record.correlationId,
      causationId: null,
      occurredAt: this.ports.now().toISOString(),
      source: 'gateway',
      payload,
    };
    const subject = workflowEventSubject(record.workflowId);
    await withTraceParent(record.traceParent, () => publishEnvelope(this.ports.js, subject, envelope, { msgId: envelope.id }));
    return { eventId: envelope.id, subject };
  }
}
