import { Module, type DynamicModule } from '@nestjs/common';
import type { ActorRuntime } from '@troupe/actor-runtime';
import { TIMER_PORTS, TimersController, type TimerPorts } from './timers/timers.controller';
import { ACTOR_RUNTIME, WorkflowEventsController } from './workflows/workflow-events.controller';

/** Wires the orchestrator: workflow events into the actor runtime, and the durable timer service. */
@Module({})
export class OrchestratorModule {
  static forRoot(runtime: ActorRuntime, timers: TimerPorts): DynamicModule {
    return {
      module: OrchestratorModule,
      controllers: [WorkflowEventsController, TimersController],
      providers: [
        { provide: ACTOR_RUNTIME, useValue: runtime },
        { provide: TIMER_PORTS, useValue: timers },
      ],
    };
  }
}
