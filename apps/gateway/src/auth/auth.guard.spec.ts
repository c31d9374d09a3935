import { ForbiddenException, HttpException, UnauthorizedException, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { describe, expect, it } from 'vitest';
import { UnauthenticatedLimiter } from '../http/rate-limit';
import { AuthGuard, type AuthenticatedRequest } from './auth.guard';
import { Authenticator, sha256Hex } from './authenticator';
import { ApiKeyInQuery, Public, READ_ROLES, Roles } from './roles.decorator';

class Routes {
  @Roles(...READ_ROLES)
  read() {}
  @Roles('approver')
  decide() {}
  @Public()
  health() {}
  @Roles(...READ_ROLES)
  @ApiKeyInQuery()
  feed() {}
  undeclared() {}
}

const authenticator = new Authenticator({
  apiKeys: [
    { id: 'vic', sha256: sha256Hex('viewer-key'), roles: ['viewer'] },
    { id: 'ann', sha256: sha256Hex('approver-key'), roles: ['approver'] },
    { id: 'root', sha256: sha256Hex('admin-key'), roles: ['admin'] },
  ],
  jwt: null,
});
const guard = new AuthGuard(new Reflector(), authenticator);

function call(handler: keyof Routes, request: { headers?: Record<string, string>; query?: Record<string, string>; ip?: string }, through: AuthGuard = guard) {
  const headers = request.headers ?? {};
  const req = { header: (name: string) => headers[name.toLowerCase()], query: request.query ?? {}, ip: request.ip ?? '10.0.0.1' } as unknown as AuthenticatedRequest;
  const responseHeaders: Record<string, string> = {};
  const context = {
    getType: () => 'http',
    getHandler: () => Routes.prototype[handler],
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => req, getResponse: () => ({ setHeader: (k: string, v: string) => (responseHeaders[k] = v) }) }),
  } as unknown as ExecutionContext;
  return { result: through.canActivate(context), req, responseHeaders };
}

describe('AuthGuard', () => {
  it('lets an allowed role through and records the principal on the request', async () => {
    const { result, req } = call('read', { headers: { 'x-api-key': 'viewer-key' } });
    await expect(result).resolves.toBe(true);
    expect(req.principal).toEqual({ id: 'vic', roles: ['viewer'], via: 'api-key' });
  });

  it('answers 401 with WWW-Authenticate without a credential, 403 for a role not allowed', async () => {
    const missing = call('read', {});
    await expect(missing.result).rejects.toBeInstanceOf(UnauthorizedException);
    expect(missing.responseHeaders['WWW-Authenticate']).toContain('Bearer');
    await expect(call('decide', { headers: { 'x-api-key': 'viewer-key' } }).result).rejects.toBeInstanceOf(ForbiddenException);
    await expect(call('decide', { headers: { 'x-api-key': 'approver-key' } }).result).resolves.toBe(true);
  });

  it('fails closed on a route that declares no roles, except for admins', async () => {
    await expect(call('undeclared', { headers: { 'x-api-key': 'approver-key' } }).result).rejects.toBeInstanceOf(ForbiddenException);
    await expect(call('undeclared', { headers: { 'x-api-key': 'admin-key' } }).result).resolves.toBe(true);
  });

  it('skips public routes, and takes ?api_key= only where the route allows it', async () => {
    await expect(call('health', {}).result).resolves.toBe(true);
    await expect(call('feed', { query: { api_key: 'viewer-key' } }).result).resolves.toBe(true);
    await expect(call('read', { query: { api_key: 'viewer-key' } }).result).rejects.toBeInstanceOf(UnauthorizedException);
  });

  it('refuses an Authorization header that is not a bearer token', async () => {
    await expect(call('read', { headers: { authorization: 'Basic dXNlcjpwYXNz' } }).result).rejects.toThrow(UnauthorizedException);
  });

  it('refuses an address over its budget of 401s with 429 and Retry-After before looking at its credential, until its window ends', async () => {
    let nowMs = 1_000_000;
    const limiter = new UnauthenticatedLimiter(2, 60_000, () => nowMs);
    let lookups = 0;
    const counting = Object.assign(Object.create(authenticator) as Authenticator, {
      apiKey: (key: string) => {
        lookups += 1;
        return authenticator.apiKey(key);
      },
    });
    const limited = new AuthGuard(new Reflector(), counting, limiter);
    for (let n = 0; n < 2; n += 1) await expect(call('read', { headers: { 'x-api-key': 'guess' } }, limited).result).rejects.toBeInstanceOf(UnauthorizedException);
    nowMs += 15_000;
    const refused = call('read', { headers: { 'x-api-key': 'guess' } }, limited);
    await expect(refused.result).rejects.toSatisfy((error: unknown) => error instanceof HttpException && error.getStatus() === 429);
    expect(refused.responseHeaders['Retry-After']).toBe('45');
    // Even a valid key from that address waits: the authenticator is not asked.
    const valid = call('read', { headers: { 'x-api-key': 'viewer-key' } }, limited);
    await expect(valid.result).rejects.toSatisfy((error: unknown) => error instanceof HttpException && error.getStatus() === 429);
    expect(lookups).toBe(2);
    // Another address, public routes and valid callers are not counted against it.
    await expect(call('read', { headers: { 'x-api-key': 'viewer-key' }, ip: '10.0.0.2' }, limited).result).resolves.toBe(true);
    await expect(call('health', {}, limited).result).resolves.toBe(true);
    nowMs += 45_000;
    await expect(call('read', { headers: { 'x-api-key': 'viewer-key' } }, limited).result).resolves.toBe(true);
  });
});
