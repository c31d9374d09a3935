import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAMS, type ScheduleRecord } from '@troupe/contracts';
import { startNatsServer, type NatsServerHandle } from '@troupe/testing';
import { provisionStreams } from '../provisioning';
import { ScheduleStore } from './schedule-store';
import { Scheduler } from './scheduler';

let server: NatsServerHandle;
let nats: NatsConnection;

beforeAll(async () => {
  server = await startNatsServer();
  nats = await connect({ servers: server.url });
  await provisionStreams(await nats.jetstreamManager());
});

afterAll(async () => {
  await nats?.drain();
  await server?.stop();
});

let bucketCount = 0;
const T0 = Date.parse('2026-12-01T10:00:00.000Z');

function schedule(scheduleId: string, overrides: Partial<ScheduleRecord> = {}): ScheduleRecord {
  return {
    scheduleId,
    cron: '* * * * * *',
    timezone: 'UTC',
    workflowType: 'email-triage',
    payload: { hello: 'world' },
    paused: false,
    notBefore: new Date(T0).toISOString(),
    stopAt: null,
    lastFiredTick: null,
    firedCount: 0,
    skippedCount: 0,
    claim: null,
    lastError: null,
    createdBy: 'test',
    createdAt: new Date(T0).toISOString(),
    updatedAt: new Date(T0).toISOString(),
    ...overrides,
  };
}

/** Start events of `scheduleId` in WF_EVENTS (after JetStream's duplicate window dropped repeats). */
async function startEvents(scheduleId: string): Promise<string[]> {
  const consumer = await nats.jetstream().consumers.get(STREAMS.workflowEvents.name);
  const ids: string[] = [];
  for (;;) {
    const message = await consumer.next({ expires: 1_000 });
    if (message === null) break;
    const envelope = message.json<{ id: string; workflowId: string }>();
    if (envelope.workflowId.startsWith(`${scheduleId}-`)) ids.push(envelope.id);
  }
  return ids;
}

describe('the scheduler (real JetStream KV)', () => {
  it('fires every tick exactly once with two replicas passing concurrently over the same 10 s', async () => {
    const store = await ScheduleStore.open(nats, `schedules_${++bucketCount}`);
    await store.create(schedule('every-second', { stopAt: new Date(T0 + 10_000).toISOString() }));
    let clock = T0;
    const now = () => new Date(clock);
    const replicas = ['a', 'b'].map((ownerId) => new Scheduler({ nats, ownerId, startEventType: () => 'email.received', now, store }));
    const fired: string[] = [];
    for (let step = 0; step <= 24; step += 1) {
      clock = T0 + step * 500;
      const passes = await Promise.all(replicas.map((replica) => replica.runPass()));
      for (const pass of passes) fired.push(...pass.fired.map((f) => f.workflowId));
    }
    expect(fired).toHaveLength(10);
    expect(new Set(fired).size).toBe(10);
    expect(fired[0]).toBe('every-second-20261201T100000Z');
    expect(fired.at(-1)).toBe('every-second-20261201T100009Z');
    expect((await store.get('every-second'))?.record).toMatchObject({ firedCount: 10, lastFiredTick: '2026-12-01T10:00:09.000Z', claim: null });
    expect(await startEvents('every-second')).toHaveLength(10);
  });

  it('does not fire while paused, and fires from the resume on without catching up', async () => {
    const store = await ScheduleStore.open(nats, `schedules_${++bucketCount}`);
    await store.create(schedule('paused-one', { paused: true }));
    let clock = T0 + 5_000;
    const scheduler = new Scheduler({ nats, ownerId: 'a', startEventType: () => 'email.received', now: () => new Date(clock), store });
    expect((await scheduler.runPass()).fired).toEqual([]);
    await store.modify('paused-one', (r) => ({ ...r, paused: false, notBefore: new Date(clock).toISOString() }));
    clock += 300;
    // The ticks of 10:00:00 to 10:00:04 passed while paused: the first fired is the one at the resume.
    expect((await scheduler.runPass()).fired.map((f) => f.tick)).toEqual(['2026-12-01T10:00:05.000Z']);
    await store.modify('paused-one', (r) => ({ ...r, paused: true }));
    clock += 3_000;
    expect((await scheduler.runPass()).fired).toEqual([]);
  });

  it("takes over a dead replica's claim after the claim timeout, and the repeat start is deduplicated", async () => {
    const store = await ScheduleStore.open(nats, `schedules_${++bucketCount}`);
    const claimedAt = new Date(T0).toISOString();
    await store.create(schedule('orphan', { claim: { tick: claimedAt, ownerId: 'dead', claimedAt } }));
    let clock = T0 + 500;
    const scheduler = new Scheduler({ nats, ownerId: 'a', startEventType: () => 'email.received', now: () => new Date(clock), store, claimTimeoutMs: 2_000 });
    expect((await scheduler.runPass()).fired).toEqual([]);
    clock = T0 + 2_500;
    const pass = await scheduler.runPass();
    expect(pass.fired.map((f) => f.tick)).toEqual(['2026-12-01T10:00:00.000Z', '2026-12-01T10:00:01.000Z', '2026-12-01T10:00:02.000Z']);
  });

  it('skips ticks older than the catch-up window and counts them', async () => {
    const store = await ScheduleStore.open(nats, `schedules_${++bucketCount}`);
    await store.create(schedule('late'));
    const scheduler = new Scheduler({ nats, ownerId: 'a', startEventType: () => 'email.received', now: () => new Date(T0 + 10_500), store, catchUpMs: 2_000 });
    const pass = await scheduler.runPass();
    expect(pass.skipped).toBe(9);
    expect(pass.fired.map((f) => f.tick)).toEqual(['2026-12-01T10:00:09.000Z', '2026-12-01T10:00:10.000Z']);
    expect((await store.get('late'))?.record.skippedCount).toBe(9);
  });

  it('pauses a schedule whose workflow type is unknown, with the reason', async () => {
    const store = await ScheduleStore.open(nats, `schedules_${++bucketCount}`);
    await store.create(schedule('unknown-type'));
    const scheduler = new Scheduler({ nats, ownerId: 'a', startEventType: () => null, now: () => new Date(T0 + 100), store });
    expect((await scheduler.runPass()).fired).toEqual([]);
    expect((await store.get('unknown-type'))?.record).toMatchObject({ paused: true, lastError: 'unknown workflow type email-triage; paused', firedCount: 0 });
  });
});
