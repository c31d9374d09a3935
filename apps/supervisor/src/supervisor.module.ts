import { Module, type DynamicModule } from '@nestjs/common';
import type { JetStreamClient } from 'nats';
import type { TriageRouter } from './routing/triage-router';
import { JETSTREAM, RouteTaskController, TRIAGE_ROUTER } from './tasks/route-task.controller';

/** Wires the supervisor: the routing task over a ready router. */
@Module({})
export class SupervisorModule {
  static forRoot(deps: { router: TriageRouter; js: JetStreamClient }): DynamicModule {
    return {
      module: SupervisorModule,
      controllers: [RouteTaskController],
      providers: [
        { provide: TRIAGE_ROUTER, useValue: deps.router },
        { provide: JETSTREAM, useValue: deps.js },
      ],
    };
  }
}
