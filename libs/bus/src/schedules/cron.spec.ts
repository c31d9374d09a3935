import { describe, expect, it } from 'vitest';
import { nextTickOf, validateCron } from './cron';

const base = { cron: '0 */15 * * * *', timezone: 'UTC', notBefore: '2026-12-01T10:00:00.000Z', lastFiredTick: null, stopAt: null };

describe('cron ticks', () => {
  it('takes a tick exactly at notBefore, then the ones after the last fired', () => {
    expect(nextTickOf(base)?.toISOString()).toBe('2026-12-01T10:00:00.000Z');
    expect(nextTickOf({ ...base, lastFiredTick: '2026-12-01T10:00:00.000Z' })?.toISOString()).toBe('2026-12-01T10:15:00.000Z');
  });

  it('never goes before notBefore, even when the last fired tick is older (a resume)', () => {
    expect(nextTickOf({ ...base, notBefore: '2026-12-01T11:01:00.000Z', lastFiredTick: '2026-12-01T10:00:00.000Z' })?.toISOString()).toBe('2026-12-01T11:15:00.000Z');
  });

  it('ends at stopAt, exclusive', () => {
    expect(nextTickOf({ ...base, lastFiredTick: '2026-12-01T10:00:00.000Z', stopAt: '2026-12-01T10:15:00.000Z' })).toBeNull();
  });

  it('evaluates the pattern in the time zone', () => {
    expect(nextTickOf({ ...base, cron: '0 2 * * *', timezone: 'America/New_York' })?.toISOString()).toBe('2026-12-02T07:00:00.000Z'); // 02:00 EST the next day
  });

  it("throws croner's message for a bad pattern or time zone", () => {
    expect(() => validateCron('every second', 'UTC', new Date())).toThrow(/exactly five, six, or seven/);
    expect(() => validateCron('* * * * *', 'Nowhere/City', new Date())).toThrow(/timezone/i);
  });
});
