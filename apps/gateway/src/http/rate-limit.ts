import { HttpException, HttpStatus, Injectable, type ExecutionContext } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import type { AuthenticatedRequest } from '../auth/auth.guard';

/** The gateway's HTTP rate limit: at most `limit` requests per `windowMs` per caller; `limit` 0 turns it off. */
export interface RateLimitSettings {
  limit: number;
  windowMs: number;
}

/**
 * The `@nestjs/throttler` guard keyed by caller: the authenticated principal's id (`principal:<id>`, so
 * one API key or JWT subject shares one budget across addresses), else the client address (`ip:<ip>`)
 * for public routes. Registered after the `AuthGuard`, so it sees the principal; a request refused by
 * authentication never reaches it. Over the limit: 429 problem+json with `Retry-After` (seconds, set by
 * the throttler). Counts live in this process's memory (one entry per caller, expiring with its window),
 * so with several gateway replicas each enforces its own share.
 */
@Injectable()
export class PrincipalThrottlerGuard extends ThrottlerGuard {
  protected override async getTracker(request: Record<string, unknown>): Promise<string> {
    const principal = (request as unknown as AuthenticatedRequest).principal;
    return principal !== undefined ? `principal:${principal.id}` : `ip:${String((request as unknown as AuthenticatedRequest).ip ?? 'unknown')}`;
  }

  protected override async throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    throw new HttpException(
      {
        title: 'Too Many Requests',
        message: `${detail.tracker} made more than ${detail.limit} requests in ${detail.ttl} ms; retry after ${detail.timeToBlockExpire} s`,
      },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}
