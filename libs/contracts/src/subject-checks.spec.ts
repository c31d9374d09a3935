import { describe, expect, it } from 'vitest';
import {
  AGENT_RESULT_REQUESTED,
  AGENT_TASK_REQUESTED,
  APPROVAL_DECIDED,
  EMAIL_CLASSIFIED,
  MODEL_CALL_REQUESTED,
  REPLY_SEND_REQUESTED,
  TIMER_SCHEDULED,
  TOOL_CALL_REQUESTED,
  agentTaskSubject,
  effectSubject,
  eventTypeOfWorkflowSubject,
  timerSubject,
  workflowEventSubject,
  workflowEventTypeSubject,
  type Envelope,
} from '@troupe/contracts';
import { subjectMismatch } from './subject-checks';

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

  it('accepts only agent.task_requested on an agent task queue', () => {
    expect(subjectMismatch(agentTaskSubject('classifier'), envelope(AGENT_TASK_REQUESTED))).toBeNull();
    const error = subjectMismatch(agentTaskSubject('supervisor'), envelope(APPROVAL_DECIDED));
    expect(error?.code).toBe('SUBJECT_MISMATCH');
    expect(error?.message).toBe('approval.decided for triage-1 arrived on troupe.agent.supervisor.task; an agent task queue carries only agent.task_requested');
    expect(subjectMismatch(agentTaskSubject('drafter'), envelope(REPLY_SEND_REQUESTED))?.code).toBe('SUBJECT_MISMATCH');
  });

  it("accepts on an effect queue only its kind's message type", () => {
    expect(subjectMismatch(effectSubject('reply.send'), envelope(REPLY_SEND_REQUESTED))).toBeNull();
    expect(subjectMismatch(effectSubject('model.call'), envelope(MODEL_CALL_REQUESTED))).toBeNull();
    expect(subjectMismatch(effectSubject('tool.call'), envelope(TOOL_CALL_REQUESTED))).toBeNull();
    expect(subjectMismatch(effectSubject('agent.result'), envelope(AGENT_RESULT_REQUESTED))).toBeNull();
    expect(subjectMismatch(effectSubject('reply.send'), envelope(AGENT_TASK_REQUESTED))?.message).toMatch(/this effect queue carries only reply\.send_requested$/);
    expect(subjectMismatch(effectSubject('tool.call'), envelope(MODEL_CALL_REQUESTED))?.code).toBe('SUBJECT_MISMATCH');
  });

  it('does not check subjects it has no rule for', () => {
    expect(subjectMismatch(timerSubject(3), envelope(TIMER_SCHEDULED))).toBeNull();
    expect(subjectMismatch('orders.created', envelope(APPROVAL_DECIDED))).toBeNull();
  });
});
