import { BadRequestException, ConflictException, NotFoundException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ReplayError, canonicalJson, planFork, replayJournal, writeFork, type ReplayDefinition } from '@troupe/actor-runtime';
import { publishEnvelope } from '@troupe/bus';
import { APPROVAL_DECIDED, WORKFLOW_CANCEL_REQUESTED, WorkflowId, workflowEventTypeSubject, type Envelope, type JournalEntry } from '@troupe/contracts';
import type { Principal } from '../auth/principal';
import { VersionConflictError, type WorkflowRecord } from '@troupe/persistence';
import type { AnyMachineSnapshot } from 'xstate';
import type { GatewayPorts } from '../ports';
import type { ForkBody } from './history.schemas';

/**
 * Time travel over HTTP: rebuilds a workflow at a step from its journal (and checks it against the
 * journaled digests and, at the latest step, the stored snapshot), and forks a new workflow from a step.
 * Reads the read model and the journal; a fork writes one new record (never the source) and publishes
 * its next event.
 */
export class HistoryService {
  constructor(
    private readonly ports: GatewayPorts,
    private readonly definitions: readonly ReplayDefinition[],
  ) {}

  /**
   * @throws NotFoundException when no such workflow exists; BadRequestException when `step` is outside
   *   the journal; ConflictException when the journal cannot be replayed (gap, unknown machine version).
   */
  async replay(workflowId: string, step: number | undefined) {
    const record = await this.loadOrNotFound(workflowId);
    const entries = await this.journalOf(record);
    const result = this.orHttpError(() => replayJournal(entries, this.definitions, { step }));
    // At the latest step the store holds the snapshot itself: compare it whole, not only its digest.
    const matchesStoredSnapshot = result.step === record.version ? canonicalJson(result.snapshot) === canonicalJson(record.snapshot) : null;
    return {
      workflowId,
      step: result.step,
      lastStep: entries.length,
      machineVersion: result.machineVersion,
      stateValue: result.stateValue,
      status: result.status,
      context: result.context,
      matchesSnapshot: result.matchesSnapshot && matchesStoredSnapshot !== false,
      snapshotDigest: result.snapshotDigest,
      journaledDigest: entries[result.step - 1]?.snapshotDigest ?? null,
      matchesStoredSnapshot,
      mismatches: result.mismatches,
    };
  }

  /**
   * Creates a new workflow at the source's state at `body.step` and publishes `body.event` into it.
   *
   * @throws NotFoundException when the source does not exist; BadRequestException when `step` is outside
   *   its journal; ConflictException when the journal does not reproduce that step, the event is not
   *   accepted there, or a workflow with the fork's id exists.
   */
  async fork(workflowId: string, body: ForkBody, principal: Principal) {
    const record = await this.loadOrNotFound(workflowId);
    // A decision or a cancel carries the caller's identity, never one from the body (as on their own routes).
    const payload = withCallerIdentity(body.event.type, body.event.payload, principal);
    const entries = await this.journalOf(record);
    const forkWorkflowId = body.workflowId ?? defaultForkId(workflowId);
    const at = this.ports.now().toISOString();
    const plan = this.orHttpError(() => planFork({ sourceEntries: entries, step: body.step, forkWorkflowId, definitions: this.definitions, at }));
    const definition = this.definitions.find((d) => d.workflowType === plan.record.workflowType && d.machineVersion === plan.record.machineVersion);
    const restored = definition?.machine.resolveState(plan.record.snapshot as never) as AnyMachineSnapshot | undefined;
    if (restored !== undefined) {
      let accepted: boolean;
      let why = '';
      try {
        accepted = restored.can({ type: body.event.type, payload } as never);
      } catch (error) {
        // A guard that reads a payload field the body lacks throws: that payload cannot be accepted.
        accepted = false;
        why = ` (${(error as Error).message})`;
      }
      if (!accepted) {
        throw new ConflictException({
          title: 'Event not accepted at that step',
          message: `${body.event.type} is not accepted in state ${JSON.stringify(plan.record.stateValue)} at step ${body.step} of ${workflowId}${why}`,
        });
      }
    }
    try {
      await writeFork(plan, this.ports);
    } catch (error) {
      if (error instanceof VersionConflictError) throw new ConflictException({ title: 'Workflow exists', message: `workflow ${forkWorkflowId} already exists` });
      throw error;
    }
    for (const message of plan.record.outbox) await publishEnvelope(this.ports.js, message.subject, message.envelope, { msgId: message.id });
    const envelope: Envelope = {
      id: randomUUID(),
      type: body.event.type,
      workflowId: forkWorkflowId,
      correlationId: forkWorkflowId,
      causationId: null,
      occurredAt: at,
      source: `gateway/${principal.id}`.slice(0, 128),
      payload,
    };
    const subject = workflowEventTypeSubject(forkWorkflowId, envelope.type);
    await publishEnvelope(this.ports.js, subject, envelope, { msgId: envelope.id });
    return {
      workflowId: forkWorkflowId,
      forkedFrom: { workflowId, step: body.step },
      stateValue: plan.record.stateValue,
      version: plan.record.version,
      eventId: envelope.id,
      subject,
    };
  }

  /** @throws NotFoundException when no such workflow exists. */
  private async loadOrNotFound(workflowId: string): Promise<WorkflowRecord> {
    const record = await this.ports.store.load(workflowId);
    if (record === null) throw new NotFoundException({ title: 'Workflow not found', message: `no workflow ${workflowId}` });
    return record;
  }

  /**
   * The journal up to the record's version: appended entries plus the record's pending ones (appended
   * alongside the outbox); the archive's when retention archived them.
   */
  private async journalOf(record: WorkflowRecord): Promise<JournalEntry[]> {
    const archived = record.journalRetention?.mode === 'archive' && this.ports.journalArchive !== undefined;
    const appended = [
      ...(archived ? await this.ports.journalArchive!.read(record.workflowId) : []),
      ...(await this.ports.journal.read(record.workflowId)),
    ];
    const bySeq = new Map<number, JournalEntry>();
    for (const entry of [...appended, ...record.pendingJournal]) if (!bySeq.has(entry.seq)) bySeq.set(entry.seq, entry);
    return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  }

  /** Runs `work`, answering a ReplayError as 400 (a step outside the journal) or 409 (anything else). */
  private orHttpError<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      if (!(error instanceof ReplayError)) throw error;
      const body = { title: 'Cannot replay', message: error.message, issues: [`${error.code}: ${error.message}`] };
      throw error.code === 'STEP_OUT_OF_RANGE' ? new BadRequestException(body) : new ConflictException(body);
    }
  }
}

/** `<id>-fork-<8 hex>`, or `fork-<32 hex>` when that would be longer than a workflow id may be. */
function defaultForkId(workflowId: string): string {
  const candidate = `${workflowId}-fork-${randomUUID().replace(/-/g, '').slice(0, 8)}`;
  return WorkflowId.safeParse(candidate).success ? candidate : `fork-${randomUUID().replace(/-/g, '')}`;
}

/**
 * The payload with its identity field set to the authenticated caller: `approver` of `approval.decided`,
 * `requestedBy` of `workflow.cancel_requested`; other payloads unchanged.
 */
function withCallerIdentity(type: string, payload: unknown, principal: Principal): unknown {
  const identity = { id: principal.id, roles: principal.roles };
  const body = typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : {};
  if (type === APPROVAL_DECIDED) return { ...body, approver: identity };
  if (type === WORKFLOW_CANCEL_REQUESTED) return { ...body, requestedBy: identity };
  return payload;
}
