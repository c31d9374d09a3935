import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { ActorRuntime, type HandleOutcome } from '@troupe/actor-runtime';
import type { JetStreamContext } from '@troupe/bus';
import { ALL_WORKFLOW_EVENTS, TroupeError, eventTypeOfWorkflowSubject, workflowEventSubject, type Envelope } from '@troupe/contracts';

/** Injection token of the {@link ActorRuntime}. */
export const ACTOR_RUNTIME = Symbol('ACTOR_RUNTIME');

/**
 * An event arrived on a subject that is not its own: another workflow's, another partition's, or one
 * naming another event type. Subject permissions are granted per event type, so applying it would let a
 * publisher act beyond its permissions. Not retryable: the message is dead-lettered with this reason.
 */
export class SubjectMismatchError extends TroupeError {
  constructor(subject: string, envelope: Envelope, expected: string) {
    super('SUBJECT_MISMATCH', `${envelope.type} for ${envelope.workflowId} arrived on ${subject}; its subject is ${expected}[.${envelope.type}]`, { retryable: false });
  }
}

/**
 * Why `envelope` may not be applied when it arrived on `subject`, or null when it may: the subject's
 * partition and workflow id must be the envelope's, and a typed subject
 * (`troupe.wf.<p>.<id>.<type>`) must name the envelope's type.
 */
export function subjectMismatch(subject: string, envelope: Envelope): SubjectMismatchError | null {
  const untyped = workflowEventSubject(envelope.workflowId);
  const typed = eventTypeOfWorkflowSubject(subject);
  const matches = typed === null ? subject === untyped : subject === `${untyped}.${envelope.type}`;
  return matches ? null : new SubjectMismatchError(subject, envelope, untyped);
}

/** Feeds every workflow event from the bus into the actor runtime, once its subject is checked. */
@Controller()
export class WorkflowEventsController {
  constructor(@Inject(ACTOR_RUNTIME) private readonly runtime: ActorRuntime) {}

  @EventPattern(ALL_WORKFLOW_EVENTS)
  async handle(@Payload() envelope: Envelope, @Ctx() context?: JetStreamContext): Promise<HandleOutcome> {
    const mismatch = context === undefined ? null : subjectMismatch(context.message.subject, envelope);
    if (mismatch !== null) throw mismatch;
    return this.runtime.handle(envelope);
  }
}
