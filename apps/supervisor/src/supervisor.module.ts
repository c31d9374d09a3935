import { Module, type DynamicModule } from '@nestjs/common';
import type { JetStreamClient } from 'nats';
import type { TriageRouter } from './routing/triage-router';
import type { SupervisionStarter } from './supervision/supervision-starter';
import { JETSTREAM, RouteTaskController, SUPERVISION_STARTER, TRIAGE_ROUTER } from './tasks/route-task.controller';

/** Wires the supervisor: its task queue (routing, fan-out, decisions) over a ready router. */
@Module({})
export class SupervisorModule {
  static forRoot(deps: { router: TriageRouter; js: JetStreamClient; supervisions: SupervisionStarter }): DynamicModule {
    return {
      module: SupervisorModule,
      controllers: [RouteTaskController],
      providers: [
        { provide: TRIAGE_ROUTER, useValue: deps.router },
        { provide: JETSTREAM, useValue: deps.js },
        { provide: SUPERVISION_STARTER, useValue: deps.supervisions },
      ],
    };
  }
}
