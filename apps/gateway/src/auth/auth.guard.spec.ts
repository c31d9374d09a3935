import { ForbiddenException, UnauthorizedException, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { describe, expect, it } from 'vitest';
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

function call(handler: keyof Routes, request: { headers?: Record<string, string>; query?: Record<string, string> }) {
  const headers = request.headers ?? {};
  const req = { header: (name: string) => headers[name.toLowerCase()], query: request.query ?? {} } as unknown as AuthenticatedRequest;
  const responseHeaders: Record<string, string> = {};
  const context = {
    getType: () => 'http',
    getHandler: () => Routes.prototype[handler],
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => req, getResponse: () => ({ setHeader: (k: string, v: string) => (responseHeaders[k] = v) }) }),
  } as unknown as ExecutionContext;
  return { result: guard.canActivate(context), req, responseHeaders };
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
});
