import { randomUUID } from 'node:crypto';
import type { JournalEntry } from '@troupe/contracts';
import type { SentMailRecord, WorkflowRecord } from '../types';

/** A workflow id unique to this call, starting with `prefix` (ids stay within `[A-Za-z0-9_-]`). */
export function uniqueWorkflowId(prefix = 'wf'): string {
  return `${prefix}-${randomUUID().replace(/-/g, '').slice(0, 12)}`;
}

/** A complete, plausible {@link WorkflowRecord} at version 1, with `overrides` applied. */
export function sampleWorkflowRecord(overrides: Partial<WorkflowRecord> = {}): WorkflowRecord {
  const workflowId = overrides.workflowId ?? uniqueWorkflowId();
  return {
    workflowId,
    workflowType: 'email-triage',
    machineVersion: '1',
    version: 1,
    snapshot: { status: 'active', value: 'classifying', context: { attempts: 0, note: 'a "quoted" – ünïcode text' } },
    status: 'active',
    stateValue: 'classifying',
    statePaths: ['classifying'],
    tags: {},
    appliedEventIds: [`${workflowId}:start`],
    outbox: [],
    pendingJournal: [],
    pendingApproval: null,
    correlationId: `corr-${workflowId}`,
    traceId: null,
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
    ...overrides,
  };
}

/** A {@link JournalEntry} of `workflowId` at `seq`, with `overrides` applied. */
export function sampleJournalEntry(workflowId: string, seq: number, overrides: Partial<JournalEntry> = {}): JournalEntry {
  return {
    workflowId,
    workflowType: 'email-triage',
    seq,
    eventId: `${workflowId}:event-${seq}`,
    eventType: 'email.classified',
    event: { label: 'ham', confidence: 0.9 },
    fromStateValue: seq === 1 ? null : 'classifying',
    stateValue: { review: 'waiting' },
    status: 'active',
    effects: [{ id: `${workflowId}:${seq}:0`, kind: 'agent.task', subject: 'troupe.agent.classifier.task' }],
    rejection: null,
    appliedAt: new Date(Date.UTC(2025, 0, 1, 0, 0, seq)).toISOString(),
    traceId: null,
    ...overrides,
  };
}

/** A {@link SentMailRecord} with an idempotency key shaped like the runtime's (`<workflowId>:<version>:<n>`). */
export function sampleSentMailRecord(overrides: Partial<SentMailRecord> = {}): SentMailRecord {
  const workflowId = overrides.workflowId ?? uniqueWorkflowId();
  return {
    idempotencyKey: `${workflowId}:3:0`,
    workflowId,
    to: 'alice@example.org',
    subject: 'Re: your question',
    body: 'Thanks, we will look into it.',
    inReplyTo: '<m1@example.org>',
    sentAt: '2025-01-01T00:00:00.000Z',
    ...overrides,
  };
}
