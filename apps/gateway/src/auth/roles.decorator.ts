import { SetMetadata } from '@nestjs/common';
import type { Role } from '@troupe/contracts';

/** Metadata keys read by {@link AuthGuard}. */
export const ROLES_KEY = 'troupe:roles';
export const PUBLIC_KEY = 'troupe:public';
export const API_KEY_IN_QUERY_KEY = 'troupe:api-key-in-query';

/**
 * The roles allowed on a route (handler or controller); `admin` is always allowed. A route without
 * `@Roles` or `@Public` is refused (403) for everyone but admins: the guard fails closed.
 */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

/** Every GET: what viewers (and every other role) may do. */
export const READ_ROLES: Role[] = ['viewer', 'operator', 'approver'];

/** A route anyone may call without a credential (health, the dashboard's static page). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

/**
 * The route also takes the API key as `?api_key=`: for Server-Sent Events, since a browser's
 * `EventSource` cannot send headers.
 */
export const ApiKeyInQuery = () => SetMetadata(API_KEY_IN_QUERY_KEY, true);
