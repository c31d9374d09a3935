import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { ActorRuntime, type HandleOutcome } from '@troupe/actor-runtime';
import type { JetStreamContext } from '@troupe/bus';
import { ALL_WORKFLOW_EVENTS, subjectMismatch, type Envelope } from '@troupe/contracts';

/** Injection token of the {@link ActorRuntime}. */
export const ACTOR_RUNTIME = Symbol('ACTOR_RUNTIME');

/**
 * Feeds every workflow event from the bus into the actor runtime, once its subject is checked
 * (`subjectMismatch` of @troupe/contracts, also checked by the transport for every consumer).
 */
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
