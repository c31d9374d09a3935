import { Controller, Inject } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import { ActorRuntime, type HandleOutcome } from '@troupe/actor-runtime';
import { ALL_WORKFLOW_EVENTS, type Envelope } from '@troupe/contracts';

/** Injection token of the {@link ActorRuntime}. */
export const ACTOR_RUNTIME = Symbol('ACTOR_RUNTIME');

/** Feeds every workflow event from the bus into the actor runtime. */
@Controller()
export class WorkflowEventsController {
  constructor(@Inject(ACTOR_RUNTIME) private readonly runtime: ActorRuntime) {}

  @EventPattern(ALL_WORKFLOW_EVENTS)
  handle(envelope: Envelope): Promise<HandleOutcome> {
    return this.runtime.handle(envelope);
  }
}
