import { Module, type DynamicModule } from '@nestjs/common';
import type { WorkflowUsageLedger } from '@troupe/agent-kit';
import type { JetStreamClient } from 'nats';
import type { TriageRouter } from './routing/triage-router';
import type { SupervisionStarter } from './supervision/supervision-starter';
import { JETSTREAM, RouteTaskController, SUPERVISION_STARTER, TRIAGE_ROUTER, WORKFLOW_USAGE } from './tasks/route-task.controller';

/** Wires the supervisor: its task queue (routing, fan-out, decisions) over a ready router. */
@Module({})
export class SupervisorModule {
  /** `usage`: where the router's model calls are counted per workflow (null or absent: not counted, the router calls no model). */
  static forRoot(deps: { router: TriageRouter; js: JetStreamClient; supervisions: SupervisionStarter; usage?: WorkflowUsageLedger | null }): DynamicModule {
    return {
      module: SupervisorModule,
      controllers: [RouteTaskController],
      providers: [
        { provide: TRIAGE_ROUTER, useValue: deps.router },
        { provide: JETSTREAM, useValue: deps.js },
        { provide: SUPERVISION_STARTER, useValue: deps.supervisions },
        { provide: WORKFLOW_USAGE, useValue: deps.usage ?? null },
      ],
    };
  }
}
