import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { ActorRuntime, type HandleOutcome } from '@troupe/actor-runtime';
import { ALL_WORKFLOW_EVENTS, type Envelope } from '@troupe/contracts';

/** Injection token of the {@link ActorRuntime}. */
export const ACTOR_RUNTIME = Symbol('ACTOR_RUNTIME');

/**
 * Feeds every workflow event from the bus into the actor runtime. The transport (`JetStreamServer`)
 * has already dead-lettered an event on a subject not its own (`subjectMismatch` of @troupe/contracts).
 */
@Controller()
export class WorkflowEventsController {
  constructor(@Inject(ACTOR_RUNTIME) private readonly runtime: ActorRuntime) {}

  @EventPattern(ALL_WORKFLOW_EVENTS)
  handle(@Payload() envelope: Envelope): Promise<HandleOutcome> {
    return this.runtime.handle(envelope);
  }
}
