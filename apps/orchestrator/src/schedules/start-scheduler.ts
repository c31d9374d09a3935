import { Logger } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import { z } from 'zod';
import { Scheduler } from '@troupe/bus';
import { parseEnvironment } from '@troupe/contracts';
import { WORKFLOW_CATALOG } from '@troupe/statecharts';

/** The scheduler's configuration, parsed once at boot. */
export const SchedulerEnvironment = z.object({
  /** `false` turns the scheduler off in this replica (default on). */
  TROUPE_SCHEDULER_ENABLED: z.enum(['true', 'false']).default('true'),
  /** How often the scheduler checks every schedule, ms (default 250). */
  TROUPE_SCHEDULER_POLL_MS: z.coerce.number().int().min(10).default(250),
  /** A replica's claim on a tick older than this is taken over by another replica, ms (default 10,000). */
  TROUPE_SCHEDULE_CLAIM_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /** Due ticks older than this are skipped instead of fired (after an outage of every replica), ms (default 60,000). */
  TROUPE_SCHEDULE_CATCH_UP_MS: z.coerce.number().int().min(0).default(60_000),
});

/**
 * Starts the cron scheduler of this orchestrator replica (every replica runs one; a tick fires once
 * across them, see {@link Scheduler}); workflow types resolve to start events through the workflow
 * catalog. Returns null when `TROUPE_SCHEDULER_ENABLED=false`.
 *
 * @throws ConfigurationError for a bad `TROUPE_SCHEDULE*` key; Error from JetStream when the bucket cannot be opened.
 */
export async function startScheduler(nats: NatsConnection, ownerId: string, processEnv: NodeJS.ProcessEnv = process.env): Promise<Scheduler | null> {
  const env = parseEnvironment(SchedulerEnvironment, processEnv);
  if (env.TROUPE_SCHEDULER_ENABLED === 'false') return null;
  const scheduler = new Scheduler({
    nats,
    ownerId,
    startEventType: (workflowType) => WORKFLOW_CATALOG.find((entry) => entry.workflowType === workflowType)?.startEventType ?? null,
    pollMs: env.TROUPE_SCHEDULER_POLL_MS,
    claimTimeoutMs: env.TROUPE_SCHEDULE_CLAIM_TIMEOUT_MS,
    catchUpMs: env.TROUPE_SCHEDULE_CATCH_UP_MS,
  });
  await scheduler.start();
  new Logger('scheduler').log(`scheduler started (poll ${env.TROUPE_SCHEDULER_POLL_MS} ms)`);
  return scheduler;
}
