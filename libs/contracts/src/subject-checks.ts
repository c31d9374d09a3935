import { AGENT_EFFECT_KINDS, AGENT_RESULT_REQUESTED, MODEL_CALL_REQUESTED, TOOL_CALL_REQUESTED } from './agents';
import { AGENT_TASK_REQUESTED, REPLY_SEND_REQUESTED } from './effects';
import type { Envelope } from './envelope';
import { TroupeError } from './errors';
import { REPLY_SEND } from './triage';
import { SUBJECT_ROOT, effectSubject, eventTypeOfWorkflowSubject, workflowEventSubject } from './topology';

/** The envelope type each effect work queue carries, by its subject `troupe.effect.<kind>`. */
const EFFECT_MESSAGE_TYPES: ReadonlyMap<string, string> = new Map(
  [
    [REPLY_SEND, REPLY_SEND_REQUESTED],
    [AGENT_EFFECT_KINDS.modelCall, MODEL_CALL_REQUESTED],
    [AGENT_EFFECT_KINDS.toolCall, TOOL_CALL_REQUESTED],
    [AGENT_EFFECT_KINDS.agentResult, AGENT_RESULT_REQUESTED],
  ].map(([kind, type]) => [effectSubject(kind), type]),
);

/**
 * A message arrived on a subject that is not its own: an event on another workflow's, another
 * partition's or another event type's subject, or an envelope whose type is not the one an agent task
 * queue (`agent.task_requested`) or an effect queue (`<kind>_requested`) carries. Subject permissions are
 * granted per subject, so acting on it would let a publisher act beyond its permissions. Not retryable:
 * the message is dead-lettered with this reason.
 */
export class SubjectMismatchError extends TroupeError {
  constructor(subject: string, envelope: Envelope, expected: string) {
    super('SUBJECT_MISMATCH', `${envelope.type} for ${envelope.workflowId} arrived on ${subject}; ${expected}`, { retryable: false });
  }
}

/**
 * Why `envelope` may not be acted on when it arrived on `subject`, or null when it may:
 *
 * - a workflow event subject's partition and workflow id must be the envelope's, and a typed one
 *   (`troupe.wf.<p>.<id>.<type>`) must name the envelope's type;
 * - an agent task queue (`troupe.agent.<agent>.task`) carries only `agent.task_requested`;
 * - an effect queue (`troupe.effect.<kind>`) carries only its kind's message type (`reply.send_requested`,
 *   `model.call_requested`, `tool.call_requested`, `agent.result_requested`).
 *
 * Other subjects (timers, approvals, subjects outside Troupe's) are not checked here.
 */
export function subjectMismatch(subject: string, envelope: Envelope): SubjectMismatchError | null {
  const tokens = subject.split('.');
  if (tokens[0] !== SUBJECT_ROOT) return null;
  if (tokens[1] === 'wf') {
    const untyped = workflowEventSubject(envelope.workflowId);
    const matches = eventTypeOfWorkflowSubject(subject) === null ? subject === untyped : subject === `${untyped}.${envelope.type}`;
    return matches ? null : new SubjectMismatchError(subject, envelope, `its subject is ${untyped}[.${envelope.type}]`);
  }
  if (tokens[1] === 'agent' && tokens.length === 4 && tokens[3] === 'task') {
    return envelope.type === AGENT_TASK_REQUESTED ? null : new SubjectMismatchError(subject, envelope, `an agent task queue carries only ${AGENT_TASK_REQUESTED}`);
  }
  const effectType = EFFECT_MESSAGE_TYPES.get(subject);
  if (effectType !== undefined && envelope.type !== effectType) {
    return new SubjectMismatchError(subject, envelope, `this effect queue carries only ${effectType}`);
  }
  return null;
}
