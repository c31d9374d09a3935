import { describe, expect, it } from 'vitest';
import { APPROVAL_DECIDED, EMAIL_CLASSIFIED, eventTypeOfWorkflowSubject, workflowEventSubject, workflowEventTypeSubject, type Envelope } from '@troupe/contracts';
import { subjectMismatch } from './workflow-events.controller';

const envelope = (type: string, workflowId = 'triage-1'): Envelope => ({
  id: 'e1',
  type,
  workflowId,
  correlationId: workflowId,
  causationId: null,
  occurredAt: '2026-12-01T00:00:00.000Z',
  source: 'spec',
  payload: {},
});

describe('subjectMismatch', () => {
  it('accepts an event on its typed subject and on the untyped one', () => {
    expect(subjectMismatch(workflowEventTypeSubject('triage-1', APPROVAL_DECIDED), envelope(APPROVAL_DECIDED))).toBeNull();
    expect(subjectMismatch(workflowEventSubject('triage-1'), envelope(APPROVAL_DECIDED))).toBeNull();
  });

  it('refuses a decision smuggled onto the subject of another event type', () => {
    const error = subjectMismatch(workflowEventTypeSubject('triage-1', EMAIL_CLASSIFIED), envelope(APPROVAL_DECIDED));
    expect(error?.code).toBe('SUBJECT_MISMATCH');
    expect(error?.retryable).toBe(false);
  });

  it("refuses an event on another workflow's subject", () => {
    expect(subjectMismatch(workflowEventSubject('triage-2'), envelope(APPROVAL_DECIDED))?.code).toBe('SUBJECT_MISMATCH');
    expect(subjectMismatch(workflowEventTypeSubject('triage-2', APPROVAL_DECIDED), envelope(APPROVAL_DECIDED))?.code).toBe('SUBJECT_MISMATCH');
  });

  it('reads the event type from a typed subject, null from an untyped one', () => {
    expect(eventTypeOfWorkflowSubject(workflowEventTypeSubject('triage-1', APPROVAL_DECIDED))).toBe(APPROVAL_DECIDED);
    expect(eventTypeOfWorkflowSubject(workflowEventSubject('triage-1'))).toBeNull();
    expect(eventTypeOfWorkflowSubject('troupe.agent.classifier.task')).toBeNull();
  });
});
