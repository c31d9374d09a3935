import type { z } from 'zod';
import { BaseEnvironment } from '@troupe/contracts';

/** Supervisor configuration, parsed once at boot (plus the `TROUPE_MODEL_*` keys of agent-kit). */
export const SupervisorEnvironment = BaseEnvironment;
export type SupervisorEnvironment = z.infer<typeof SupervisorEnvironment>;
