import { Controller, Get, Inject, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthCheckResult } from '@nestjs/terminus';
import type { Response } from 'express';
import { Public } from '../auth/roles.decorator';
import { GATEWAY_PORTS, type GatewayPorts } from '../ports';

/** How long the NATS round trip may take before the check fails, ms. */
const NATS_RTT_TIMEOUT_MS = 2_000;

/**
 * `GET /health` (public; `@nestjs/terminus`): `nats` (the connection is open and answers a round
 * trip) and `store` (the snapshot store answers a read). 200 with `status: "ok"`, else 503 with
 * `status: "error"` and the failing indicator in `error`.
 */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(GATEWAY_PORTS) private readonly ports: GatewayPorts,
  ) {}

  @Get()
  @Public()
  @HealthCheck({ swaggerDocumentation: true })
  @ApiOperation({ summary: 'Liveness of the gateway: NATS and the store' })
  async check(@Res({ passthrough: true }) response: Response): Promise<HealthCheckResult> {
    try {
      return await this.health.check([() => this.nats(), () => this.store()]);
    } catch (error) {
      // Terminus reports a failed check as a 503 whose body is the result; keep that body, not a problem.
      if (error instanceof ServiceUnavailableException) {
        response.status(503);
        return error.getResponse() as HealthCheckResult;
      }
      throw error;
    }
  }

  private async nats() {
    const indicator = this.indicators.check('nats');
    if (this.ports.nats.isClosed()) return indicator.down({ message: 'connection closed' });
    try {
      const rttMs = await Promise.race([
        this.ports.nats.rtt(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${NATS_RTT_TIMEOUT_MS} ms`)), NATS_RTT_TIMEOUT_MS).unref()),
      ]);
      return indicator.up({ server: this.ports.nats.getServer(), rttMs });
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }

  private async store() {
    const indicator = this.indicators.check('store');
    try {
      await this.ports.store.load('__health__');
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }
}
