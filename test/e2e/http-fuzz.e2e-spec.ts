import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import { provisionStreams } from '@troupe/bus';
import type { Role } from '@troupe/contracts';
import { freePort, startNatsServer, type NatsServerHandle } from '@troupe/testing';
import { startApp, type AppProcess } from '../../apps/demo/src/stack';

/** Requests the property sends (`TROUPE_HTTP_FUZZ_RUNS`, default 2,000). */
const RUNS = Number(process.env.TROUPE_HTTP_FUZZ_RUNS ?? 2_000);
const ROLES: Role[] = ['viewer', 'operator', 'approver', 'admin'];

interface Gateway {
  url: string;
  keys: Record<Role, string>;
  app: AppProcess;
}

async function startGateway(natsUrl: string, logDir: string, name: string, env: Record<string, string> = {}): Promise<Gateway> {
  const port = await freePort();
  const keys = Object.fromEntries(ROLES.map((role) => [role, randomBytes(24).toString('base64url')])) as Record<Role, string>;
  const app = startApp('gateway', {
    logFile: path.join(logDir, `${name}.log`),
    env: {
      NATS_URL: natsUrl,
      TROUPE_HTTP_PORT: String(port),
      TROUPE_GATEWAY_API_KEYS: JSON.stringify(ROLES.map((role) => ({ id: `fuzz-${role}`, sha256: createHash('sha256').update(keys[role]).digest('hex'), roles: [role] }))),
      ...env,
    },
  });
  await app.ready;
  return { url: `http://127.0.0.1:${port}`, keys, app };
}

/** Route templates of the gateway (every controller), `:id` style parameters filled by the generator. */
const ROUTES = [
  '/me',
  '/workflows',
  '/workflows/counts',
  '/workflows/:id',
  '/workflows/:id/journal',
  '/workflows/:id/events',
  '/workflows/:id/approvals',
  '/workflows/:id/cancel',
  '/workflows/:id/replay',
  '/workflows/:id/fork',
  '/workflows/:id/feed',
  '/approvals',
  '/dead-letters',
  '/dead-letters/:id/replay',
  '/statecharts/:id',
  '/feed',
  '/health',
  '/docs-json',
  '/dashboard',
  '/no-such-route/:id',
];
const QUERY_KEYS = ['limit', 'cursor', 'type', 'status', 'state', 'tag', 'idPrefix', 'machineVersion', 'updatedBefore', 'updatedAfter', 'sort', 'step', 'api_key', 'x'];

const junkText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('', ' ', '-1', '0', '1e309', 'NaN', '999999999999999999999', 'null', 'true', '../..', '%00', '%', '%zz', '🦀', '\u0000', 'a'.repeat(3_000)),
  fc.integer().map(String),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
);
const pathId = fc.oneof(
  fc.constantFrom('triage-1', 'email-triage', '1', '0', '-5', 'a'.repeat(129), 'a'.repeat(2_000), '..', '.', '%2e%2e', '%00', '%ff', 'x%2Fy', '💥', 'null'),
  fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/),
  fc.string({ maxLength: 30 }).map((s) => encodeURIComponent(s)),
  fc.integer().map(String),
);
const query = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...QUERY_KEYS), fc.string({ maxLength: 10 }), fc.constant('limit[]'), fc.constant('tag[a]')), junkText), { maxLength: 5 });
const validishBodies = fc.oneof(
  fc.record({ workflowType: fc.oneof(fc.constant('email-triage'), junkText), workflowId: fc.option(pathId), payload: fc.anything() }),
  fc.record({ type: fc.oneof(fc.constantFrom('email.received', 'approval.decided', 'workflow.cancel_requested', 'x.y'), junkText), payload: fc.anything(), eventId: fc.option(junkText) }),
  fc.record({ decision: fc.oneof(fc.constantFrom('approved', 'rejected', 'edited'), junkText), gateId: fc.option(junkText), comment: fc.option(junkText), editedText: fc.option(junkText) }),
  fc.record({ reason: junkText }),
  fc.record({ step: fc.oneof(fc.integer(), junkText), event: fc.anything(), workflowId: fc.option(pathId) }),
);
const body = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  validishBodies.map((v) => JSON.stringify(v)),
  validishBodies.map((v) => JSON.stringify(v)).chain((text) => fc.nat({ max: Math.max(0, text.length - 1) }).map((n) => text.slice(0, n))),
  fc.constant(`{"payload":"${'x'.repeat(300 * 1_024)}"}`),
  fc.constant('{"a":'.repeat(5_000)),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  fc.string({ maxLength: 200 }),
);
const contentType = fc.constantFrom(undefined, 'application/json', 'application/json; charset=utf-8', 'application/json; charset=latin1', 'application/json; charset=nope', 'text/plain', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/merge-patch+json', '');
const credential = fc.oneof(
  { arbitrary: fc.constantFrom(...ROLES).map((role) => ({ role })), weight: 6 },
  fc.constant({ role: null as Role | null }),
  junkText.map((junk) => ({ apiKey: junk })),
  junkText.map((junk) => ({ authorization: junk })),
  fc.constantFrom('Bearer ', 'Bearer a.b.c', 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', 'Basic YTpi', 'Bearer ' + 'x'.repeat(4_000)).map((authorization) => ({ authorization })),
);
const request = fc.record({
  method: fc.constantFrom('GET', 'GET', 'GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'),
  route: fc.constantFrom(...ROUTES),
  id: pathId,
  query,
  body,
  contentType,
  credential,
  extraHeaders: fc.array(fc.tuple(fc.constantFrom('accept', 'accept-encoding', 'x-forwarded-for', 'if-none-match', 'range', 'last-event-id', 'content-encoding'), fc.string({ unit: 'binary-ascii', maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, ''))), { maxLength: 3 }),
});
type FuzzRequest = typeof request extends fc.Arbitrary<infer T> ? T : never;

describe('bad input over HTTP: a fast-check property over generated requests against the real gateway', () => {
  let nats: NatsServerHandle;
  let connection: NatsConnection;
  let gateway: Gateway;
  let limited: Gateway;
  const logDir = mkdtempSync(path.join(tmpdir(), 'troupe-http-fuzz-'));

  beforeAll(async () => {
    nats = await startNatsServer();
    connection = await connect({ servers: nats.url });
    await provisionStreams(await connection.jetstreamManager());
    [gateway, limited] = await Promise.all([
      startGateway(nats.url, logDir, 'gateway', { TROUPE_RATE_LIMIT: '0', TROUPE_UNAUTHENTICATED_RATE_LIMIT: '0' }),
      startGateway(nats.url, logDir, 'gateway-limited', { TROUPE_RATE_LIMIT: '5', TROUPE_UNAUTHENTICATED_RATE_LIMIT: '3', TROUPE_RATE_LIMIT_WINDOW_MS: '60000' }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([gateway?.app.stop(), limited?.app.stop()]);
    await connection?.drain();
    await nats?.stop();
  });

  const send = async (target: Gateway, input: FuzzRequest): Promise<{ status: number; contentType: string | null; text: string }> => {
    const search = new URLSearchParams(input.query).toString();
    const url = `${target.url}${input.route.replace(':id', input.id)}${search === '' ? '' : `?${search}`}`;
    const headers: Record<string, string> = {};
    if (input.contentType !== undefined) headers['content-type'] = input.contentType;
    for (const [name, value] of input.extraHeaders) headers[name] = value;
    if ('role' in input.credential && input.credential.role !== null) headers['x-api-key'] = target.keys[input.credential.role];
    if ('apiKey' in input.credential) headers['x-api-key'] = input.credential.apiKey.replace(/[^\x20-\x7e]/g, '');
    if ('authorization' in input.credential) headers.authorization = input.credential.authorization.replace(/[^\x20-\x7e]/g, '');
    const withBody = input.body !== undefined && !['GET', 'HEAD'].includes(input.method);
    const response = await fetch(url, { method: input.method, headers, body: withBody ? input.body : undefined, signal: AbortSignal.timeout(15_000) });
    const type = response.headers.get('content-type');
    // A live feed (SSE) never ends: its headers are the answer.
    const text = type?.startsWith('text/event-stream') ? (await response.body?.cancel(), '') : await response.text();
    return { status: response.status, contentType: type, text };
  };

  it(`answers ${RUNS} generated requests without a 500, client errors as problem+json`, async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async (input) => {
        const answer = await send(gateway, input);
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        expect(answer.status, `${input.method} ${input.route} → ${answer.status}: ${answer.text.slice(0, 300)}`).toBeLessThan(500);
        if (answer.status >= 400 && input.method !== 'HEAD') {
          expect(answer.contentType, `${input.method} ${input.route} → ${answer.status}`).toContain('application/problem+json');
          expect(JSON.parse(answer.text)).toMatchObject({ status: answer.status, title: expect.any(String) });
        }
      }),
      { numRuns: RUNS, seed: Number(process.env.TROUPE_HTTP_FUZZ_SEED ?? 10), endOnFailure: true },
    );
    console.log(`http fuzz: ${RUNS} requests tried; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`);
    expect(gateway.app.process.exitCode).toBeNull();
  });

  it('refuses a body over the size limit with 413 problem+json', async () => {
    const response = await fetch(`${gateway.url}/workflows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': gateway.keys.operator },
      body: JSON.stringify({ workflowType: 'email-triage', payload: { text: 'x'.repeat(300 * 1_024) } }),
    });
    expect(response.status).toBe(413);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
  });

  it('answers headers over the 16 KiB limit with 431 problem+json, and keeps serving', async () => {
    const response = await fetch(`${gateway.url}/workflows`, { headers: { 'x-api-key': gateway.keys.viewer, 'x-padding': 'p'.repeat(20_000) } });
    expect(response.status).toBe(431);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(await response.json()).toMatchObject({ status: 431, title: 'Request Header Fields Too Large' });
    expect((await fetch(`${gateway.url}/workflows`, { headers: { 'x-api-key': gateway.keys.viewer } })).status).toBe(200);
  });

  it('limits each principal to its rate (429 problem+json with Retry-After) while another principal goes on', async () => {
    const call = (role: Role) => fetch(`${limited.url}/me`, { headers: { 'x-api-key': limited.keys[role] } });
    const answers = [];
    for (let i = 0; i < 6; i += 1) answers.push(await call('viewer'));
    expect(answers.slice(0, 5).map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    const refused = answers[5];
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await refused.json()) as { detail: string }).detail).toContain('principal:fuzz-viewer');
    expect((await call('operator')).status).toBe(200);
  });

  // Last: it leaves 127.0.0.1 refused by the limited gateway for the rest of its window.
  it('throttles requests without a valid credential per client address (429 problem+json with Retry-After), before authenticating, public routes aside', async () => {
    const me = (headers: Record<string, string>) => fetch(`${limited.url}/me`, { headers });
    const bad = [];
    for (let i = 0; i < 3; i += 1) bad.push(await me({ 'x-api-key': `not-a-key-${i}` }));
    expect(bad.map((answer) => answer.status)).toEqual([401, 401, 401]);
    const attempts: Array<Record<string, string>> = [{ 'x-api-key': 'not-a-key-3' }, { authorization: 'Bearer not.a.jwt' }, {}, { 'x-api-key': limited.keys.viewer }];
    for (const headers of attempts) {
      const refused = await me(headers);
      expect(refused.status, JSON.stringify(headers)).toBe(429);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
      expect(((await refused.json()) as { detail: string }).detail).toMatch(/^ip:\S+ made more than 3 requests without a valid credential/);
    }
    expect((await fetch(`${limited.url}/health`)).status).toBe(200);
    // The unlimited gateway (TROUPE_UNAUTHENTICATED_RATE_LIMIT=0) still answers 401.
    expect((await fetch(`${gateway.url}/me`, { headers: { 'x-api-key': 'not-a-key' } })).status).toBe(401);
  });
});
