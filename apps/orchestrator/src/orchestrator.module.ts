import { Module, type DynamicModule } from '@nestjs/common';
import type { ActorRuntime } from '@troupe/actor-runtime';
import { ACTOR_RUNTIME, WorkflowEventsController } from './workflows/workflow-events.controller';

/** Wires the orchestrator: the workflow-events controller over a ready actor runtime. */
@Module({})
export class OrchestratorModule {
  static forRoot(runtime: ActorRuntime): DynamicModule {
    return {
      module: OrchestratorModule,
      controllers: [WorkflowEventsController],
      providers: [{ provide: ACTOR_RUNTIME, useValue: runtime }],
    };
  }
}
