import { describe, expect, it } from 'vitest';
import { resolveApiConfig } from './api-client';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, runCli } from './cli';

interface Recorded {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

/** Runs the CLI in process against a fake `fetch` answering `respond(request)`. */
async function run(argv: string[], respond: (request: Recorded) => Response, env: NodeJS.ProcessEnv = {}) {
  const requests: Recorded[] = [];
  let stdout = '';
  let stderr = '';
  const fakeFetch = (async (url: string, init: RequestInit) => {
    const request = { url, method: init.method ?? 'GET', headers: init.headers as Record<string, string>, body: init.body ? JSON.parse(String(init.body)) : undefined };
    requests.push(request);
    return respond(request);
  }) as typeof fetch;
  const code = await runCli(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env, fetch: fakeFetch });
  return { code, stdout, stderr, requests };
}

const json = (status: number, body: unknown, type = 'application/json') => new Response(JSON.stringify(body), { status, headers: { 'content-type': type } });
const approval = { gateId: 'wf-1:reply-approval', gate: 'reply-approval', proposed: { body: 'Hello' }, reason: 'r', allowedRoles: ['approver'], requestedAt: '2026-12-01T08:00:00.000Z', deadlineAt: '2026-12-02T08:00:00.000Z', onDeadline: 'escalated' };
const summary = {
  workflowId: 'wf-1',
  workflowType: 'email-triage',
  machineVersion: '3',
  traceId: null,
  status: 'active',
  stateValue: 'awaitingApproval',
  statePaths: ['awaitingApproval'],
  version: 4,
  tags: {},
  pendingApproval: approval,
  updatedAt: '2026-12-01T08:00:01.000Z',
  extraField: 'kept in --json',
};

const schedule = {
  scheduleId: 'nightly',
  cron: '0 2 * * *',
  timezone: 'Europe/Paris',
  workflowType: 'email-triage',
  payload: { email: { subject: 'digest' } },
  paused: false,
  notBefore: '2026-12-01T00:00:00.000Z',
  stopAt: null,
  lastFiredTick: '2026-12-01T01:00:00.000Z',
  firedCount: 3,
  skippedCount: 0,
  claim: null,
  lastError: null,
  createdBy: 'ops',
  createdAt: '2026-11-28T10:00:00.000Z',
  updatedAt: '2026-12-01T01:00:01.000Z',
  nextTick: '2026-12-02T01:00:00.000Z',
  nextWorkflowId: 'nightly-20261202T010000Z',
};

describe('resolveApiConfig', () => {
  it('takes flags over the environment over the default, and drops a trailing slash', () => {
    expect(resolveApiConfig({}, {})).toEqual({ url: 'http://127.0.0.1:3000', apiKey: undefined, token: undefined });
    expect(resolveApiConfig({}, { TROUPE_API_URL: 'http://gw:1/', TROUPE_API_KEY: 'k', TROUPE_TOKEN: 't' })).toEqual({ url: 'http://gw:1', apiKey: 'k', token: 't' });
    expect(resolveApiConfig({ url: 'http://flag:2', apiKey: 'fk' }, { TROUPE_API_URL: 'http://gw:1', TROUPE_API_KEY: '' })).toEqual({ url: 'http://flag:2', apiKey: 'fk', token: undefined });
  });
});

describe('runCli', () => {
  it('sends the API key as X-Api-Key, or else the token as a Bearer credential', async () => {
    const withKey = await run(['workflows', 'list'], () => json(200, { items: [], nextCursor: null }), { TROUPE_API_KEY: 'secret', TROUPE_TOKEN: 'jwt' });
    expect(withKey.requests[0].headers['x-api-key']).toBe('secret');
    expect(withKey.requests[0].headers.authorization).toBeUndefined();
    const withToken = await run(['--token', 'jwt', 'workflows', 'list'], () => json(200, { items: [], nextCursor: null }));
    expect(withToken.requests[0].headers.authorization).toBe('Bearer jwt');
  });

  it('passes list filters as query parameters and prints the server JSON untouched with --json', async () => {
    const result = await run(['workflows', 'list', '--state', 'awaitingApproval', '--id-prefix', 'triage-', '--limit', '5', '--json'], () => json(200, { items: [summary], nextCursor: null }), {
      TROUPE_API_URL: 'http://gw:9',
    });
    expect(result.code).toBe(EXIT_OK);
    const url = new URL(result.requests[0].url);
    expect(url.origin + url.pathname).toBe('http://gw:9/workflows');
    expect(Object.fromEntries(url.searchParams)).toEqual({ state: 'awaitingApproval', idPrefix: 'triage-', limit: '5' });
    expect(JSON.parse(result.stdout)).toEqual({ items: [summary], nextCursor: null });
  });

  it('follows the cursor with --all', async () => {
    const result = await run(['workflows', 'list', '--all', '--json'], (request) =>
      new URL(request.url).searchParams.get('cursor') === 'p2' ? json(200, { items: [{ ...summary, workflowId: 'wf-2' }], nextCursor: null }) : json(200, { items: [summary], nextCursor: 'p2' }),
    );
    expect(result.requests).toHaveLength(2);
    expect((JSON.parse(result.stdout) as { items: Array<{ workflowId: string }> }).items.map((i) => i.workflowId)).toEqual(['wf-1', 'wf-2']);
  });

  it('posts decisions with the pending gate optional and the edited text for edit', async () => {
    const accepted = { eventId: 'e1', subject: 'troupe.wf.1.wf-1', gateId: 'wf-1:reply-approval', decision: 'edited' };
    const result = await run(['approvals', 'edit', 'wf-1', '--text', 'Better reply', '--comment', 'tone'], () => json(202, accepted));
    expect(result.code).toBe(EXIT_OK);
    expect(result.requests[0]).toMatchObject({ method: 'POST', body: { decision: 'edited', editedText: 'Better reply', comment: 'tone' } });
    expect(result.requests[0].url).toBe('http://127.0.0.1:3000/workflows/wf-1/approvals');
    expect(result.stdout).toContain('edited wf-1 at gate wf-1:reply-approval');
  });

  it('refuses an edit without text before calling the server', async () => {
    const result = await run(['approvals', 'edit', 'wf-1'], () => json(500, {}));
    expect(result.code).toBe(EXIT_FAILED);
    expect(result.requests).toHaveLength(0);
    expect(result.stderr).toContain('--text <text> or --file <path>');
  });

  it('prints a problem with its status, title, detail and issues and exits 1', async () => {
    const problem = { type: 'about:blank', title: 'No pending approval', status: 409, detail: 'workflow wf-1 is in "sent"', instance: '/workflows/wf-1/approvals' };
    const result = await run(['approvals', 'approve', 'wf-1'], () => json(409, problem, 'application/problem+json'));
    expect(result.code).toBe(EXIT_FAILED);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('error: 409 No pending approval\n  workflow wf-1 is in "sent"');
    const asJson = await run(['approvals', 'approve', 'wf-1', '--json'], () => json(409, problem, 'application/problem+json'));
    expect(JSON.parse(asJson.stderr)).toEqual(problem);
  });

  it('makes a problem from an error answer that is not problem+json', async () => {
    const result = await run(['dlq', 'list'], () => new Response('upstream down', { status: 502, statusText: 'Bad Gateway' }));
    expect(result.code).toBe(EXIT_FAILED);
    expect(result.stderr).toContain('error: 502 Bad Gateway\n  upstream down');
  });

  it('reports a body of the wrong shape instead of printing nonsense', async () => {
    const result = await run(['workflows', 'show', 'wf-1'], () => json(200, { workflowId: 'wf-1' }));
    expect(result.code).toBe(EXIT_FAILED);
    expect(result.stderr).toMatch(/answered a body the CLI cannot read:[\s\S]*workflowType/);
  });

  it('exits 2 on a wrong command line without calling the server', async () => {
    const unknown = await run(['workflows', 'frobnicate'], () => json(200, {}));
    expect(unknown.code).toBe(EXIT_USAGE);
    const badStep = await run(['workflows', 'replay', 'wf-1', '--step', 'zero'], () => json(200, {}));
    expect(badStep.code).toBe(EXIT_USAGE);
    expect(badStep.stderr).toContain('--step must be a positive integer');
    expect([...unknown.requests, ...badStep.requests]).toHaveLength(0);
  });

  it('sends an event with its JSON payload', async () => {
    const result = await run(['send', 'wf-1', 'workflow.cancel_requested', '--payload', '{"reason":"stop"}', '--event-id', 'k1'], () => json(202, { eventId: 'k1', subject: 's' }));
    expect(result.requests[0]).toMatchObject({ method: 'POST', url: 'http://127.0.0.1:3000/workflows/wf-1/events', body: { type: 'workflow.cancel_requested', payload: { reason: 'stop' }, eventId: 'k1' } });
    expect(result.code).toBe(EXIT_OK);
  });

  it('lists schedules as a table with their state and next tick, naming unreadable entries, and as the server JSON with --json', async () => {
    const page = { items: [schedule, { ...schedule, scheduleId: 'weekly', paused: true, nextTick: null, nextWorkflowId: null, lastError: 'unknown workflow type' }], unreadable: ['broken'] };
    const table = await run(['schedules', 'list'], () => json(200, page));
    expect(table.code, table.stderr).toBe(EXIT_OK);
    expect(table.requests[0]).toMatchObject({ method: 'GET', url: 'http://127.0.0.1:3000/schedules' });
    const lines = table.stdout.trim().split('\n');
    expect(lines[0].split(/\s{2,}/)).toEqual(['SCHEDULE', 'CRON', 'TIMEZONE', 'TYPE', 'STATE', 'NEXT TICK', 'FIRED', 'LAST FIRED', 'LAST ERROR']);
    expect(lines[2].split(/\s{2,}/)).toEqual(['nightly', '0 2 * * *', 'Europe/Paris', 'email-triage', 'active', '2026-12-02T01:00:00.000Z', '3', '2026-12-01T01:00:00.000Z']);
    expect(lines[3].split(/\s{2,}/)).toEqual(['weekly', '0 2 * * *', 'Europe/Paris', 'email-triage', 'paused', '-', '3', '2026-12-01T01:00:00.000Z', 'unknown workflow type']);
    expect(lines[4]).toBe('unreadable: broken');
    const asJson = await run(['schedules', 'list', '--json'], () => json(200, page));
    expect(JSON.parse(asJson.stdout)).toEqual(page);
  });

  it('shows one schedule, and pauses and resumes it with POSTs', async () => {
    const shown = await run(['schedules', 'show', 'nightly'], () => json(200, schedule));
    expect(shown.requests[0]).toMatchObject({ method: 'GET', url: 'http://127.0.0.1:3000/schedules/nightly' });
    expect(shown.stdout).toContain('next tick:  2026-12-02T01:00:00.000Z (starts nightly-20261202T010000Z)');
    expect(shown.stdout).toContain('cron:       0 2 * * * (Europe/Paris)');
    expect(shown.stdout).toContain('payload:\n{\n  "email": {');
    const paused = await run(['schedules', 'pause', 'nightly'], () => json(200, { ...schedule, paused: true, nextTick: null, nextWorkflowId: null }));
    expect(paused.code, paused.stderr).toBe(EXIT_OK);
    expect(paused.requests[0]).toMatchObject({ method: 'POST', url: 'http://127.0.0.1:3000/schedules/nightly/pause', body: undefined });
    expect(paused.stdout).toMatch(/^paused nightly\nschedule: +nightly\nstate: +paused/);
    const resumed = await run(['schedules', 'resume', 'nightly', '--json'], () => json(200, schedule));
    expect(resumed.requests[0]).toMatchObject({ method: 'POST', url: 'http://127.0.0.1:3000/schedules/nightly/resume' });
    expect(JSON.parse(resumed.stdout)).toEqual(schedule);
  });

  it('prints the problem of an unknown schedule and exits 1', async () => {
    const problem = { type: 'about:blank', title: 'Not Found', status: 404, detail: 'no schedule nope', instance: '/schedules/nope/pause' };
    const result = await run(['schedules', 'pause', 'nope'], () => json(404, problem, 'application/problem+json'));
    expect(result.code).toBe(EXIT_FAILED);
    expect(result.stderr).toContain('error: 404 Not Found\n  no schedule nope');
  });

  it('follows the SSE feed, stops after --count changes, and fails when the gateway closes the stream', async () => {
    const change = (version: number) => ({ workflowId: 'wf-1', workflowType: 'email-triage', version, status: 'active', stateValue: 's', statePaths: ['s'], eventType: 'e', tags: {}, pendingApproval: null });
    const stream = [': hello\n\n', ...[1, 2, 3].map((v) => `event: workflow.changed\nid: wf-1:${v}\ndata: ${JSON.stringify(change(v))}\n\n`)].join('');
    const result = await run(['tail', 'wf-1', '--count', '2', '--json'], () => new Response(stream, { status: 200, headers: { 'content-type': 'text/event-stream' } }));
    expect(result.code).toBe(EXIT_OK);
    expect(result.requests[0].url).toBe('http://127.0.0.1:3000/workflows/wf-1/feed');
    expect(result.requests[0].headers.accept).toBe('text/event-stream');
    expect(result.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { version: number }).version)).toEqual([1, 2]);
    const ended = await run(['tail', '--max-reconnects', '0'], () => new Response(stream, { status: 200, headers: { 'content-type': 'text/event-stream' } }));
    expect(ended.code).toBe(EXIT_FAILED);
    expect(ended.stdout.trim().split('\n')).toHaveLength(3);
    expect(ended.stderr).toContain('error: the feed ended: the gateway closed the stream');
  });

  it('reconnects after a dropped feed with Last-Event-ID of the last event seen, and gives up after --max-reconnects in a row', async () => {
    const change = (version: number) => ({ workflowId: 'wf-1', workflowType: 'email-triage', version, status: 'active', stateValue: 's', statePaths: ['s'], eventType: 'e', tags: {}, pendingApproval: null });
    const events = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, n) => `event: workflow.changed\nid: ${100 + from + n}\ndata: ${JSON.stringify(change(from + n))}\n\n`).join('');
    // 1..2, then the stream drops; the gateway is unreachable once; then 3..4 resume after id 102.
    const answers: Array<() => Response> = [
      () => new Response(events(1, 2), { status: 200 }),
      () => {
        throw new TypeError('fetch failed');
      },
      () => new Response(events(3, 4), { status: 200 }),
    ];
    const result = await run(['tail', 'wf-1', '--json', '--reconnect-delay', '0', '--count', '4'], () => answers.shift()!());
    expect(result.code, result.stderr).toBe(EXIT_OK);
    expect(result.requests.map((request) => request.headers['last-event-id'])).toEqual([undefined, '102', '102']);
    expect(result.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { version: number }).version)).toEqual([1, 2, 3, 4]);
    expect(result.stderr).toContain('reconnecting in 0 ms with Last-Event-ID 102');

    const closing = await run(['tail', '--reconnect-delay', '0', '--max-reconnects', '2', '--json'], () => new Response(': nothing new\n\n', { status: 200 }));
    expect(closing.code).toBe(EXIT_FAILED);
    expect(closing.requests).toHaveLength(3);
    expect(closing.stderr).toContain('error: the feed ended: the gateway closed the stream (gave up after 2 reconnects)');

    const refused = await run(['tail', '--reconnect-delay', '0'], (request) =>
      request.headers['last-event-id'] === undefined ? new Response(events(1, 1), { status: 200 }) : json(401, { type: 'about:blank', title: 'Unauthorized', status: 401 }, 'application/problem+json'),
    );
    expect(refused.code).toBe(EXIT_FAILED);
    expect(refused.requests).toHaveLength(2);
    expect(refused.stderr).toMatch(/^error: 401 /m);
  });
});
