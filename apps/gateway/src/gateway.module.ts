import { Module, type DynamicModule } from '@nestjs/common';
import { DashboardModule } from './dashboard/dashboard.module';
import { HealthController } from './health.controller';
import { WorkflowsController } from './workflows/workflows.controller';
import { GATEWAY_PORTS, WorkflowsService, type GatewayPorts } from './workflows/workflows.service';

/** Wires the gateway's HTTP features over its ports. */
@Module({})
export class GatewayModule {
  static forRoot(ports: GatewayPorts): DynamicModule {
    return {
      module: GatewayModule,
      imports: [DashboardModule],
      controllers: [WorkflowsController, HealthController],
      providers: [{ provide: GATEWAY_PORTS, useValue: ports }, WorkflowsService],
    };
  }
}
