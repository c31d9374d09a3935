import { HttpException, HttpStatus, Injectable, type ExecutionContext } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import { LRUCache } from 'lru-cache';
import type { AuthenticatedRequest } from '../auth/auth.guard';

/**
 * The gateway's HTTP rate limits: at most `limit` requests per `windowMs` per authenticated caller, and
 * at most `unauthenticatedLimit` requests without a valid credential per `windowMs` per client address;
 * 0 turns either off.
 */
export interface RateLimitSettings {
  limit: number;
  windowMs: number;
  unauthenticatedLimit?: number;
}

/** Injection token of the {@link UnauthenticatedLimiter} the `AuthGuard` consults. */
export const UNAUTHENTICATED_LIMITER = Symbol('UNAUTHENTICATED_LIMITER');

/**
 * Counts requests refused by authentication (401) per client address in fixed windows of `windowMs`:
 * once an address has had `limit` of them in its window, every further request from it is refused with
 * 429 until the window ends, before its credential is looked at, so a flood of bad keys or tokens never
 * reaches the authenticator (JWT verification, JWKS fetches). That includes a valid credential sent
 * from the same address meanwhile. Counts live in this process's memory, at most `maxAddresses`
 * addresses (the least recently seen are forgotten first).
 */
export class UnauthenticatedLimiter {
  private readonly windows: LRUCache<string, { refused: number; endsAtMs: number }>;

  /**
   * @param limit refused requests allowed per address and window (at least 1).
   * @param windowMs window length, ms.
   * @param now the clock, ms since the epoch.
   */
  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
    maxAddresses = 100_000,
  ) {
    this.windows = new LRUCache({ max: maxAddresses });
  }

  /** Ms until `address` may try again; 0 when it may now. */
  retryAfterMs(address: string): number {
    const window = this.windows.get(address);
    if (window === undefined || window.refused < this.limit) return 0;
    return Math.max(0, window.endsAtMs - this.now());
  }

  /** Counts one request from `address` that authentication refused. */
  recordRefused(address: string): void {
    const now = this.now();
    const window = this.windows.get(address);
    if (window === undefined || window.endsAtMs <= now) this.windows.set(address, { refused: 1, endsAtMs: now + this.windowMs });
    else window.refused += 1;
  }

  /**
   * The 429 for `address` when it is over its limit, else null: problem+json through the filter, with
   * `Retry-After` in whole seconds (RFC 9110 §10.2.3) for the caller to set.
   */
  refusal(address: string): { exception: HttpException; retryAfterSeconds: number } | null {
    const waitMs = this.retryAfterMs(address);
    if (waitMs === 0) return null;
    const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1_000));
    return {
      retryAfterSeconds,
      exception: new HttpException(
        {
          title: 'Too Many Requests',
          message: `ip:${address} made more than ${this.limit} requests without a valid credential in ${this.windowMs} ms; retry after ${retryAfterSeconds} s`,
        },
        HttpStatus.TOO_MANY_REQUESTS,
      ),
    };
  }
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
