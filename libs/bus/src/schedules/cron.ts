import { Cron } from 'croner';
import type { ScheduleRecord } from '@troupe/contracts';

/**
 * Checks a cron pattern and time zone as croner reads them (5 fields, or 6 with seconds first; IANA
 * time zone) and returns the first tick after `after`.
 *
 * @throws Error (croner's message) for a bad pattern or time zone.
 */
export function validateCron(pattern: string, timezone: string, after: Date): Date | null {
  return new Cron(pattern, { timezone }).nextRun(after);
}

/**
 * The schedule's next tick to fire: the first tick of `cron` at or after `notBefore` and after
 * `lastFiredTick`, before `stopAt`; null when there is none (ended).
 */
export function nextTickOf(record: Pick<ScheduleRecord, 'cron' | 'timezone' | 'notBefore' | 'lastFiredTick' | 'stopAt'>): Date | null {
  const floor = Date.parse(record.notBefore) - 1;
  const after = record.lastFiredTick === null ? floor : Math.max(floor, Date.parse(record.lastFiredTick));
  const next = new Cron(record.cron, { timezone: record.timezone }).nextRun(new Date(after));
  if (next === null) return null;
  if (record.stopAt !== null && next.getTime() >= Date.parse(record.stopAt)) return null;
  return next;
}
