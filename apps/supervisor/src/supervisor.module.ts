import { Module, type DynamicModule } from '@nestjs/common';
import type { WorkflowCallBudget } from '@troupe/agent-kit';
import type { JetStreamClient } from 'nats';
import type { TriageRouter } from './routing/triage-router';
import type { SupervisionStarter } from './supervision/supervision-starter';
import { JETSTREAM, RouteTaskController, SUPERVISION_STARTER, TRIAGE_ROUTER, WORKFLOW_BUDGET } from './tasks/route-task.controller';

/** Wires the supervisor: its task queue (routing, fan-out, decisions) over a ready router. */
@Module({})
export class SupervisorModule {
  /** `budget`: the per-workflow budget the router's model calls are checked against and counted in (null or absent: neither, the router calls no model). */
  static forRoot(deps: { router: TriageRouter; js: JetStreamClient; supervisions: SupervisionStarter; budget?: WorkflowCallBudget | null }): DynamicModule {
    return {
      module: SupervisorModule,
      controllers: [RouteTaskController],
      providers: [
        { provide: TRIAGE_ROUTER, useValue: deps.router },
        { provide: JETSTREAM, useValue: deps.js },
        { provide: SUPERVISION_STARTER, useValue: deps.supervisions },
        { provide: WORKFLOW_BUDGET, useValue: deps.budget ?? null },
      ],
    };
  }
}
