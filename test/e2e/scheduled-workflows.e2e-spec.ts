import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScheduleView } from '@troupe/contracts';
import { detectAlerts, loadSuthaharanReadings } from '@troupe/sensor-data';
import { pollJson, startTroupeStack, type TroupeStack } from '@troupe/testing';

describe('a cron schedule with two orchestrator replicas', () => {
  let stack: TroupeStack;

  beforeAll(async () => {
    // A short claim timeout, so a killed replica's claim is taken over within the test.
    stack = await startTroupeStack({ orchestrators: 2, env: { TROUPE_SCHEDULE_CLAIM_TIMEOUT_MS: '2000' } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('firing every second for 10 s starts exactly 10 workflows', async () => {
    const [alert] = detectAlerts(loadSuthaharanReadings()).alerts;
    // The window starts on a whole second a little ahead, so both replicas' schedulers are polling by then.
    const startAtMs = Math.ceil((Date.now() + 3_000) / 1_000) * 1_000;
    const body = {
      scheduleId: 'every-second',
      cron: '* * * * * *',
      workflowType: 'incident-response',
      payload: { alert },
      startAt: new Date(startAtMs).toISOString(),
      stopAt: new Date(startAtMs + 10_000).toISOString(),
    };
    const byViewer = await fetch(`${stack.gatewayUrl}/schedules`, { method: 'POST', headers: stack.headers('viewer'), body: JSON.stringify(body) });
    expect(byViewer.status).toBe(403);
    const post = (overrides: Record<string, unknown>) =>
      fetch(`${stack.gatewayUrl}/schedules`, { method: 'POST', headers: stack.headers('operator'), body: JSON.stringify({ ...body, ...overrides }) });
    expect((await post({ workflowType: 'no-such-type' })).status).toBe(404);
    const badPayload = await post({ payload: { alert: { moteId: 'one' } } });
    expect(badPayload.status).toBe(400);
    expect(((await badPayload.json()) as { issues: string[] }).issues.some((issue) => issue.startsWith('payload.alert.'))).toBe(true);
    expect((await post({ stopAt: new Date(startAtMs - 1_000).toISOString() })).status).toBe(400);
    expect((await post({ timezone: 'Nowhere/City' })).status).toBe(400);
    const badCron = await fetch(`${stack.gatewayUrl}/schedules`, { method: 'POST', headers: stack.headers('operator'), body: JSON.stringify({ ...body, cron: 'every second' }) });
    expect(badCron.status).toBe(400);
    const created = await fetch(`${stack.gatewayUrl}/schedules`, { method: 'POST', headers: stack.headers('operator'), body: JSON.stringify(body) });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ scheduleId: 'every-second', paused: false, nextTick: new Date(startAtMs).toISOString() });
    const again = await fetch(`${stack.gatewayUrl}/schedules`, { method: 'POST', headers: stack.headers('operator'), body: JSON.stringify(body) });
    expect(again.status).toBe(409);

    const done = await pollJson<ScheduleView>(`${stack.gatewayUrl}/schedules/every-second`, (s) => s.nextTick === null && s.claim === null && s.firedCount >= 10, 60_000, stack.headers('viewer'));
    expect(done.firedCount).toBe(10);
    expect(done.skippedCount).toBe(0);

    type Page = { items: Array<{ workflowId: string; workflowType: string }> };
    const page = await pollJson<Page>(`${stack.gatewayUrl}/workflows?idPrefix=every-second-&limit=100`, (p) => p.items.length >= 10, 60_000, stack.headers('viewer'));
    // Give a duplicate start time to show up before counting.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const final = await pollJson<Page>(`${stack.gatewayUrl}/workflows?idPrefix=every-second-&limit=100`, () => true, 5_000, stack.headers('viewer'));
    expect(page.items).toHaveLength(10);
    expect(final.items).toHaveLength(10);
    const expected = Array.from({ length: 10 }, (_, i) => `every-second-${new Date(startAtMs + i * 1_000).toISOString().slice(0, 19).replace(/[-:]/g, '')}Z`);
    expect(final.items.map((w) => w.workflowId).sort()).toEqual(expected);
    expect(new Set(final.items.map((w) => w.workflowType))).toEqual(new Set(['incident-response']));
  });

  it('still starts exactly 10 when one replica is killed with SIGKILL in the middle of the 10 s', async () => {
    const [alert] = detectAlerts(loadSuthaharanReadings()).alerts;
    const startAtMs = Math.ceil((Date.now() + 2_000) / 1_000) * 1_000;
    const created = await fetch(`${stack.gatewayUrl}/schedules`, {
      method: 'POST',
      headers: stack.headers('operator'),
      body: JSON.stringify({ scheduleId: 'survivor', cron: '* * * * * *', workflowType: 'incident-response', payload: { alert }, startAt: new Date(startAtMs).toISOString(), stopAt: new Date(startAtMs + 10_000).toISOString() }),
    });
    expect(created.status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAtMs + 4_500 - Date.now())));
    await stack.orchestrators[1].stop('SIGKILL');

    const done = await pollJson<ScheduleView>(`${stack.gatewayUrl}/schedules/survivor`, (s) => s.nextTick === null && s.claim === null && s.firedCount >= 10, 60_000, stack.headers('viewer'));
    expect(done.firedCount).toBe(10);
    type Page = { items: Array<{ workflowId: string }> };
    await pollJson<Page>(`${stack.gatewayUrl}/workflows?idPrefix=survivor-&limit=100`, (p) => p.items.length >= 10, 60_000, stack.headers('viewer'));
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const final = await pollJson<Page>(`${stack.gatewayUrl}/workflows?idPrefix=survivor-&limit=100`, () => true, 5_000, stack.headers('viewer'));
    expect(final.items.map((w) => w.workflowId).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `survivor-${new Date(startAtMs + i * 1_000).toISOString().slice(0, 19).replace(/[-:]/g, '')}Z`),
    );
  });

  it('lists, pauses and resumes schedules over HTTP', async () => {
    const [alert] = detectAlerts(loadSuthaharanReadings()).alerts;
    const create = await fetch(`${stack.gatewayUrl}/schedules`, {
      method: 'POST',
      headers: stack.headers('operator'),
      body: JSON.stringify({ scheduleId: 'nightly', cron: '0 2 * * *', timezone: 'Europe/London', workflowType: 'incident-response', payload: { alert } }),
    });
    expect(create.status).toBe(201);
    const listed = (await (await fetch(`${stack.gatewayUrl}/schedules`, { headers: stack.headers('viewer') })).json()) as { items: ScheduleView[]; unreadable: string[] };
    expect(listed.unreadable).toEqual([]);
    expect(listed.items.map((s) => s.scheduleId)).toEqual(['every-second', 'nightly', 'survivor']);
    const document = (await (await fetch(`${stack.gatewayUrl}/docs-json`)).json()) as { paths: Record<string, unknown> };
    for (const route of ['/schedules', '/schedules/{id}', '/schedules/{id}/pause', '/schedules/{id}/resume']) expect(Object.keys(document.paths)).toContain(route);
    expect((await fetch(`${stack.gatewayUrl}/schedules/nightly/pause`, { method: 'POST', headers: stack.headers('viewer') })).status).toBe(403);
    const paused = await (await fetch(`${stack.gatewayUrl}/schedules/nightly/pause`, { method: 'POST', headers: stack.headers('operator') })).json();
    expect(paused).toMatchObject({ paused: true, nextTick: null });
    const resumed = (await (await fetch(`${stack.gatewayUrl}/schedules/nightly/resume`, { method: 'POST', headers: stack.headers('operator') })).json()) as ScheduleView;
    expect(resumed.paused).toBe(false);
    expect(resumed.nextTick).toMatch(/T0[12]:00:00\.000Z$/);
    expect((await fetch(`${stack.gatewayUrl}/schedules/none/pause`, { method: 'POST', headers: stack.headers('operator') })).status).toBe(404);
  });
});
