import { z } from 'zod';
import { BaseEnvironment, Role } from '@troupe/contracts';

/** Gateway configuration, parsed once at boot. */
export const GatewayEnvironment = BaseEnvironment.extend({
  /** HTTP port (default 3000). */
  TROUPE_HTTP_PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  /** Interface to bind (default 127.0.0.1). */
  TROUPE_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  /**
   * The principal every HTTP caller acts as until authentication lands (issue 6): its id and roles
   * are written into each decision. Default `operator` with role `approver`.
   */
  TROUPE_GATEWAY_PRINCIPAL_ID: z.string().min(1).default('operator'),
  TROUPE_GATEWAY_PRINCIPAL_ROLES: z
    .string()
    .default('approver')
    .transform((value) => value.split(',').map((role) => role.trim()))
    .pipe(z.array(Role).min(1)),
});
export type GatewayEnvironment = z.infer<typeof GatewayEnvironment>;
