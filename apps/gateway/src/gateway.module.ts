import { Module, type DynamicModule } from '@nestjs/common';
import { HealthController } from './health.controller';
import { HistoryController } from './history/history.controller';
import { WorkflowsController } from './workflows/workflows.controller';
import { GATEWAY_PORTS, WorkflowsService, type GatewayPorts } from './workflows/workflows.service';

/** Wires the gateway's HTTP features over its ports. */
@Module({})
export class GatewayModule {
  static forRoot(ports: GatewayPorts): DynamicModule {
    return {
      module: GatewayModule,
      controllers: [WorkflowsController, HealthController, HistoryController],
      providers: [{ provide: GATEWAY_PORTS, useValue: ports }, WorkflowsService],
    };
  }
}
