import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { AuthenticatedRequest } from './auth.guard';
import type { Principal } from './principal';

/**
 * The caller {@link AuthGuard} authenticated.
 *
 * @throws Error when used on a `@Public` route (no principal): a wiring bug, answered as 500.
 */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (principal === undefined) throw new Error('no authenticated principal on this request (a @Public route?)');
  return principal;
});
