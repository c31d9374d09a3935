import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { ThrottlerModule } from '@nestjs/throttler';
import { ApprovalsController } from './approvals/approvals.controller';
import { AuthGuard } from './auth/auth.guard';
import { AUTHENTICATOR, type Authenticator } from './auth/authenticator';
import { MeController } from './auth/me.controller';
import { DashboardModule } from './dashboard/dashboard.module';
import { DeadLettersController } from './dead-letters/dead-letters.controller';
import { FeedController } from './feed/feed.controller';
import { HealthController } from './health/health.controller';
import { PrincipalThrottlerGuard, UNAUTHENTICATED_LIMITER, UnauthenticatedLimiter, type RateLimitSettings } from './http/rate-limit';
import { GATEWAY_PORTS, type GatewayPorts } from './ports';
import { SchedulesController } from './schedules/schedules.controller';
import { SchedulesService } from './schedules/schedules.service';
import { StatechartsController } from './statecharts/statecharts.controller';
import { HistoryController } from './history/history.controller';
import { WorkflowsController } from './workflows/workflows.controller';
import { WorkflowsService } from './workflows/workflows.service';

/**
 * Wires the gateway's HTTP features over its ports; {@link AuthGuard} checks every route (and, with
 * `rateLimit.unauthenticatedLimit`, refuses an address over its budget of 401s), then
 * {@link PrincipalThrottlerGuard} limits each caller to `rateLimit.limit` (default: both off).
 */
@Module({})
export class GatewayModule {
  static forRoot(ports: GatewayPorts, authenticator: Authenticator, rateLimit: RateLimitSettings = { limit: 0, windowMs: 60_000 }): DynamicModule {
    const throttled = rateLimit.limit > 0;
    return {
      module: GatewayModule,
      imports: [
        TerminusModule.forRoot({ errorLogStyle: 'pretty' }),
        DashboardModule,
        ...(throttled ? [ThrottlerModule.forRoot({ throttlers: [{ limit: rateLimit.limit, ttl: rateLimit.windowMs }] })] : []),
      ],
      controllers: [WorkflowsController, ApprovalsController, DeadLettersController, StatechartsController, FeedController, MeController, HealthController, HistoryController, SchedulesController],
      providers: [
        { provide: GATEWAY_PORTS, useValue: ports },
        { provide: AUTHENTICATOR, useValue: authenticator },
        ...((rateLimit.unauthenticatedLimit ?? 0) > 0
          ? [{ provide: UNAUTHENTICATED_LIMITER, useValue: new UnauthenticatedLimiter(rateLimit.unauthenticatedLimit ?? 0, rateLimit.windowMs) }]
          : []),
        { provide: APP_GUARD, useClass: AuthGuard },
        ...(throttled ? [{ provide: APP_GUARD, useClass: PrincipalThrottlerGuard }] : []),
        WorkflowsService,
        SchedulesService,
      ],
    };
  }
}
