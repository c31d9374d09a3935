import { ForbiddenException, Inject, Injectable, Optional, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import type { Role } from '@troupe/contracts';
import { AUTHENTICATOR, Authenticator, CredentialRejectedError } from './authenticator';
import { UNAUTHENTICATED_LIMITER, type UnauthenticatedLimiter } from '../http/rate-limit';
import type { Principal } from './principal';
import { API_KEY_IN_QUERY_KEY, PUBLIC_KEY, ROLES_KEY } from './roles.decorator';

/** The request with the principal the guard authenticated. */
export type AuthenticatedRequest = Request & { principal?: Principal };

/**
 * Checks every HTTP route (registered as the global guard): authenticates the caller from
 * `X-Api-Key`, `Authorization: Bearer <JWT>` or, on routes marked `@ApiKeyInQuery`, `?api_key=`;
 * then requires one of the route's `@Roles` (admins pass every check). `@Public` routes skip both.
 * 401 without a valid credential (with `WWW-Authenticate`), 403 for a role not allowed or a route
 * that declares no roles. With an {@link UnauthenticatedLimiter}, a client address over its budget of
 * 401s gets 429 (with `Retry-After`) before its credential is looked at.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(AUTHENTICATOR) private readonly authenticator: Authenticator,
    @Optional() @Inject(UNAUTHENTICATED_LIMITER) private readonly limiter?: UnauthenticatedLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets) === true) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const principal = await this.authenticate(request, this.reflector.getAllAndOverride<boolean>(API_KEY_IN_QUERY_KEY, targets) === true, context);
    request.principal = principal;
    const allowed = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets);
    if (principal.roles.includes('admin')) return true;
    if (allowed === undefined) throw new ForbiddenException({ title: 'Forbidden', message: 'this route declares no roles; only admins may call it' });
    if (!principal.roles.some((role) => allowed.includes(role))) {
      throw new ForbiddenException({
        title: 'Forbidden',
        message: `${principal.id} (roles ${principal.roles.join(', ') || 'none'}) may not call this route: allowed roles are ${[...allowed, 'admin'].join(', ')}`,
      });
    }
    return true;
  }

  private async authenticate(request: Request, queryKeyAllowed: boolean, context: ExecutionContext): Promise<Principal> {
    const address = String(request.ip ?? request.socket?.remoteAddress ?? 'unknown');
    const refusal = this.limiter?.refusal(address);
    if (refusal) {
      context.switchToHttp().getResponse<Response>().setHeader('Retry-After', String(refusal.retryAfterSeconds));
      throw refusal.exception;
    }
    const apiKey = request.header('x-api-key');
    const authorization = request.header('authorization');
    const queryKey = queryKeyAllowed && typeof request.query.api_key === 'string' ? request.query.api_key : undefined;
    try {
      if (apiKey !== undefined && apiKey !== '') return this.authenticator.apiKey(apiKey);
      if (authorization !== undefined && authorization !== '') {
        const match = /^Bearer\s+(\S+)$/i.exec(authorization);
        if (match === null) throw new CredentialRejectedError('Authorization must be "Bearer <token>"');
        return await this.authenticator.bearer(match[1]);
      }
      if (queryKey !== undefined && queryKey !== '') return this.authenticator.apiKey(queryKey);
      throw new CredentialRejectedError(`no credential: send X-Api-Key or Authorization: Bearer <JWT>${queryKeyAllowed ? ' (or ?api_key=)' : ''}`);
    } catch (error) {
      if (!(error instanceof CredentialRejectedError)) throw error;
      this.limiter?.recordRefused(address);
      context.switchToHttp().getResponse<Response>().setHeader('WWW-Authenticate', 'Bearer, ApiKey header="X-Api-Key"');
      throw new UnauthorizedException({ title: 'Unauthorized', message: error.message });
    }
  }
}
