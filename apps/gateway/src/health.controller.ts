import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { GATEWAY_PORTS, type GatewayPorts } from './workflows/workflows.service';

/** `GET /health`: 200 when NATS answers; 503 otherwise. (`@nestjs/terminus` arrives with issue 6.) */
@Controller('health')
export class HealthController {
  constructor(@Inject(GATEWAY_PORTS) private readonly ports: GatewayPorts) {}

  @Get()
  async health() {
    try {
      await this.ports.store.load('__health__');
      return { status: 'ok' };
    } catch (error) {
      throw new ServiceUnavailableException({ title: 'Unhealthy', message: (error as Error).message });
    }
  }
}
