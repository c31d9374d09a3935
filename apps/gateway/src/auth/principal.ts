import { z } from 'zod';
import { Role } from '@troupe/contracts';

/** The authenticated caller of a request: the identity written into decisions and cancels. */
export const Principal = z.object({
  id: z.string().min(1).max(256),
  roles: z.array(Role),
  /** How the caller authenticated. */
  via: z.enum(['api-key', 'jwt']),
});
export type Principal = z.infer<typeof Principal>;
