import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { DeliverPolicy } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishEnvelope } from '@troupe/bus';
import { APPROVAL_DECIDED, STREAMS, workflowChangedSubject, workflowEventSubject, workflowEventTypeSubject, type JournalEntry, type PendingApproval, type Role } from '@troupe/contracts';
import { corpusSplit, loadSpamAssassinCorpus, parseCorpusEmail, type CorpusEmail } from '@troupe/email-corpus';
import { createPersistence } from '@troupe/persistence';
import { pollJson, publishEmails, startTroupeStack, type TroupeStack } from '@troupe/testing';
import { parseEventStream } from '../../apps/cli/src/sse';
import { HeaderRuleRouter } from '../../apps/supervisor/src/routing/header-rule-router';

const ISSUER = 'https://issuer.troupe.test';
const AUDIENCE = 'troupe-gateway';

interface WorkflowView {
  workflowId: string;
  status: string;
  stateValue: unknown;
  pendingApproval: PendingApproval | null;
  context: { finalReplyBody?: string } | null;
  journal: JournalEntry[];
}

/** Every authenticated route with the roles allowed there (admins pass everywhere). */
const ROUTES: Array<{ method: 'GET' | 'POST'; path: string; roles: Role[] }> = [
  { method: 'GET', path: '/me', roles: ['viewer', 'operator', 'approver'] },
  { method: 'GET', path: '/workflows', roles: ['viewer', 'operator', 'approver'] },
  { method: 'GET', path: '/workflows/no-such-workflow', roles: ['viewer', 'operator', 'approver'] },
  { method: 'GET', path: '/workflows/no-such-workflow/journal', roles: ['viewer', 'operator', 'approver'] },
  { method: 'GET', path: '/approvals', roles: ['viewer', 'operator', 'approver'] },
  { method: 'GET', path: '/dead-letters', roles: ['viewer', 'operator', 'approver'] },
  { method: 'GET', path: '/statecharts/email-triage', roles: ['viewer', 'operator', 'approver'] },
  { method: 'GET', path: '/feed', roles: ['viewer', 'operator', 'approver'] },
  { method: 'GET', path: '/workflows/no-such-workflow/feed', roles: ['viewer', 'operator', 'approver'] },
  { method: 'POST', path: '/workflows', roles: ['operator'] },
  { method: 'POST', path: '/workflows/no-such-workflow/events', roles: ['operator'] },
  { method: 'POST', path: '/workflows/no-such-workflow/approvals', roles: ['approver'] },
  { method: 'POST', path: '/workflows/no-such-workflow/cancel', roles: ['operator'] },
  { method: 'POST', path: '/dead-letters/999999999/replay', roles: ['operator'] },
];
const ALL_ROLES: Role[] = ['viewer', 'operator', 'approver', 'admin'];

/** Held-out ham the offline router sends to the drafter: each becomes a workflow waiting for a reply decision. */
async function draftedEmails(count: number): Promise<CorpusEmail[]> {
  const router = new HeaderRuleRouter();
  const found: CorpusEmail[] = [];
  for (const email of corpusSplit(loadSpamAssassinCorpus(), 'test').filter((e) => e.label === 'ham')) {
    if ((await router.route(await parseCorpusEmail(email))).route === 'draft_reply') found.push(email);
    if (found.length === count) break;
  }
  return found;
}

/** Reads an SSE response until `predicate` matches an event or `timeoutMs` passes; returns the events read. */
async function readEvents(response: Response, predicate: (event: { event: string; id: string; data: unknown }) => boolean, timeoutMs: number) {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const events: Array<{ event: string; id: string; data: unknown }> = [];
  let buffer = '';
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      const chunk = await Promise.race([reader.read(), new Promise<null>((resolve) => setTimeout(() => resolve(null), deadline - Date.now()))]);
      if (chunk === null || chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const field = (name: string) => block.split('\n').find((line) => line.startsWith(`${name}: `))?.slice(name.length + 2) ?? '';
        const event = { event: field('event'), id: field('id'), data: JSON.parse(field('data') || 'null') as unknown };
        events.push(event);
        if (predicate(event)) return events;
      }
    }
    return events;
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

describe('the gateway HTTP API, authenticated, against the running apps', () => {
  let stack: TroupeStack;
  let privateKey: CryptoKey;
  let waiting: string[];
  /** A drafted ham email not published in `beforeAll`: the feed-resume test starts a workflow with it. */
  let spareDrafted: CorpusEmail;

  const url = (route: string) => `${stack.gatewayUrl}${route}`;
  const jwt = (claims: { sub?: string; roles?: unknown; issuer?: string; audience?: string; expiresIn?: string }) => {
    let token = new SignJWT({ roles: claims.roles ?? [] })
      .setProtectedHeader({ alg: 'ES256', kid: 'test-key' })
      .setIssuer(claims.issuer ?? ISSUER)
      .setAudience(claims.audience ?? AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(claims.expiresIn ?? '5m');
    if (claims.sub !== undefined) token = token.setSubject(claims.sub);
    return token.sign(privateKey);
  };
  const post = (route: string, body: unknown, headers: Record<string, string>) =>
    fetch(url(route), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const view = (workflowId: string, predicate: (body: WorkflowView) => boolean) =>
    pollJson<WorkflowView>(url(`/workflows/${workflowId}`), predicate, 30_000, stack.headers('viewer'));

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey;
    const jwksDir = mkdtempSync(path.join(tmpdir(), 'troupe-jwks-'));
    const jwksFile = path.join(jwksDir, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'test-key', alg: 'ES256', use: 'sig' }] }));
    stack = await startTroupeStack({ gatewayEnv: { TROUPE_JWT_ISSUER: ISSUER, TROUPE_JWT_AUDIENCE: AUDIENCE, TROUPE_JWT_JWKS_FILE: jwksFile } });
    const drafted = await draftedEmails(5);
    spareDrafted = drafted[4];
    waiting = await publishEmails(stack, 'api', drafted.slice(0, 4));
    const ready = await stack.tracker.waitFor(() => waiting.every((id) => stack.tracker.workflows.get(id)?.last?.pendingApproval?.gate === 'reply-approval'), 120_000);
    expect(ready, `the drafted replies did not all wait for approval; logs in ${stack.logDir}`).toBe(true);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  describe('authentication and roles, route by route', () => {
    it('answers 401 problem+json without a credential, and with an unknown key, on every route', async () => {
      for (const route of ROUTES) {
        const attempts: Array<Record<string, string>> = [{}, { 'x-api-key': 'not-a-key' }, { authorization: 'Bearer not.a.jwt' }];
        for (const headers of attempts) {
          const response = await fetch(url(route.path), { method: route.method, headers: { 'content-type': 'application/json', ...headers }, body: route.method === 'POST' ? '{}' : undefined });
          expect(response.status, `${route.method} ${route.path} with ${JSON.stringify(headers)}`).toBe(401);
          expect(response.headers.get('content-type')).toContain('application/problem+json');
          expect(response.headers.get('www-authenticate')).toContain('Bearer');
        }
      }
    });

    it('answers 403 for a role not allowed and lets the allowed roles and admins through, on every route', async () => {
      for (const route of ROUTES) {
        for (const role of ALL_ROLES) {
          const controller = new AbortController();
          // An empty body: an allowed caller gets past the guard and meets validation or lookup, never a side effect.
          const response = await fetch(url(route.path), {
            method: route.method,
            headers: stack.headers(role),
            body: route.method === 'POST' ? '{}' : undefined,
            signal: controller.signal,
          });
          controller.abort();
          const allowed = role === 'admin' || route.roles.includes(role);
          if (allowed) expect([200, 400, 404], `${role} on ${route.method} ${route.path}`).toContain(response.status);
          else expect(response.status, `${role} on ${route.method} ${route.path}`).toBe(403);
        }
      }
    });

    it('serves /health, /docs and /docs-json without a credential', async () => {
      const health = await fetch(url('/health'));
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', info: { nats: { status: 'up' }, store: { status: 'up' } } });
      expect((await fetch(url('/docs'))).status).toBe(200);
      expect((await fetch(url('/docs-json'))).status).toBe(200);
    });

    it('takes the API key from ?api_key= on the SSE feeds only', async () => {
      const controller = new AbortController();
      const feed = await fetch(url(`/feed?api_key=${stack.apiKeys.viewer}`), { signal: controller.signal });
      expect(feed.status).toBe(200);
      expect(feed.headers.get('content-type')).toContain('text/event-stream');
      controller.abort();
      expect((await fetch(url(`/workflows?api_key=${stack.apiKeys.viewer}`))).status).toBe(401);
    });

    it('accepts a JWT signed by a key of the configured JWKS, with its sub and roles', async () => {
      const response = await fetch(url('/me'), { headers: { authorization: `Bearer ${await jwt({ sub: 'jane', roles: ['approver', 'no-such-role'] })}` } });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ id: 'jane', roles: ['approver'], via: 'jwt' });
    });

    it('refuses a JWT with another issuer, another audience, an expired one, one signed by another key, and one without sub', async () => {
      const other = await generateKeyPair('ES256');
      const foreign = await new SignJWT({ roles: ['admin'] }).setProtectedHeader({ alg: 'ES256', kid: 'test-key' }).setIssuer(ISSUER).setAudience(AUDIENCE).setSubject('eve').setExpirationTime('5m').sign(other.privateKey);
      const tokens = [
        await jwt({ sub: 'jane', roles: ['admin'], issuer: 'https://elsewhere.test' }),
        await jwt({ sub: 'jane', roles: ['admin'], audience: 'another-service' }),
        await jwt({ sub: 'jane', roles: ['admin'], expiresIn: '-5m' }),
        foreign,
        await jwt({ roles: ['admin'] }),
      ];
      for (const token of tokens) {
        const response = await fetch(url('/me'), { headers: { authorization: `Bearer ${token}` } });
        expect(response.status).toBe(401);
        expect(((await response.json()) as { detail: string }).detail).toMatch(/bearer token|sub/);
      }
    });

    it('answers 403 to a JWT viewer deciding an approval', async () => {
      const token = await jwt({ sub: 'vera', roles: ['viewer'] });
      const response = await post(`/workflows/${waiting[0]}/approvals`, { decision: 'approved' }, { authorization: `Bearer ${token}` });
      expect(response.status).toBe(403);
      expect(((await response.json()) as { detail: string }).detail).toContain('vera (roles viewer) may not call this route');
    });
  });

  describe('approvals', () => {
    it('lists the waiting replies in the approvals inbox, with what is proposed, why, and who may decide', async () => {
      const response = await fetch(url('/approvals?limit=1000'), { headers: stack.headers('viewer') });
      const { items } = (await response.json()) as { items: Array<{ workflowId: string; pendingApproval: PendingApproval }> };
      const ours = items.filter((item) => waiting.includes(item.workflowId));
      expect(ours.map((item) => item.workflowId).sort()).toEqual([...waiting].sort());
      for (const item of ours) {
        expect(item.pendingApproval).toMatchObject({ gate: 'reply-approval', allowedRoles: ['approver', 'admin'], onDeadline: 'escalated' });
        // The due time of the durable timer the gate's state scheduled (the orchestrator's approval timeout).
        expect(Date.parse(item.pendingApproval.deadlineAt ?? '')).toBeGreaterThan(Date.parse(item.pendingApproval.requestedAt));
        expect(item.pendingApproval.reason.length).toBeGreaterThan(0);
        expect(item.pendingApproval.proposed).toMatchObject({ body: expect.any(String) });
      }
    });

    it('journals a decision published on the bus by a viewer with its reason, and the workflow does not move', async () => {
      const workflowId = waiting[3];
      await publishEnvelope(stack.connection.jetstream(), workflowEventSubject(workflowId), {
        id: `${workflowId}:viewer-decision`,
        type: APPROVAL_DECIDED,
        workflowId,
        correlationId: workflowId,
        causationId: null,
        occurredAt: new Date().toISOString(),
        source: 'e2e-test',
        payload: { gateId: `${workflowId}:reply-approval`, decision: 'approved', approver: { id: 'vic', roles: ['viewer'] }, comment: null, editedText: null },
      });
      const body = await view(workflowId, (b) => b.journal.some((e) => e.eventId === `${workflowId}:viewer-decision`));
      expect(body.journal.find((e) => e.eventId === `${workflowId}:viewer-decision`)?.rejection).toBe(
        'vic (roles viewer) may not decide gate reply-approval: allowed roles are approver, admin',
      );
      expect(body.stateValue).toBe('awaitingApproval');
      expect(body.pendingApproval?.gate).toBe('reply-approval');
    });

    it('sends the edited text when an approver edits and continues (the sent-mail ledger has it), as the authenticated identity', async () => {
      const workflowId = waiting[0];
      const editedText = `Thanks, I will get back to you on Friday.\n(edited in the e2e test ${Date.now()})`;
      const response = await post(`/workflows/${workflowId}/approvals`, { decision: 'edited', editedText, comment: 'shorter' }, stack.headers('approver'));
      expect(response.status).toBe(202);
      expect(await response.json()).toMatchObject({ gateId: `${workflowId}:reply-approval`, decision: 'edited' });
      const body = await view(workflowId, (b) => b.stateValue === 'sent');
      expect(body.stateValue).toBe('sent');
      expect(body.context?.finalReplyBody).toBe(editedText);
      const decided = body.journal.find((e) => e.eventType === 'approval.decided' && e.rejection === null);
      expect((decided?.event as { payload: { approver: unknown } }).payload.approver).toEqual({ id: 'e2e-approver', roles: ['approver'] });
      const persistence = await createPersistence({ nats: stack.connection });
      const sent = (await persistence.sentMail.list()).filter((record) => record.workflowId === workflowId);
      await persistence.close();
      expect(sent.map((record) => record.body)).toEqual([editedText]);
    });

    it('applies the first of two decisions on one gate and journals the second as rejected, naming why', async () => {
      const workflowId = waiting[1];
      const gateId = `${workflowId}:reply-approval`;
      // Two clients decide the same gate at once, straight on the bus: the events are applied in order.
      const js = stack.connection.jetstream();
      for (const [n, approver, decision] of [
        [1, { id: 'ann', roles: ['approver'] }, 'approved'],
        [2, { id: 'root', roles: ['admin'] }, 'rejected'],
      ] as const) {
        await publishEnvelope(js, workflowEventSubject(workflowId), {
          id: `${workflowId}:decision-${n}`,
          type: APPROVAL_DECIDED,
          workflowId,
          correlationId: workflowId,
          causationId: null,
          occurredAt: new Date().toISOString(),
          source: 'e2e-test',
          payload: { gateId, decision, approver, comment: null, editedText: null },
        });
      }
      const body = await view(workflowId, (b) => b.stateValue === 'sent' && b.journal.some((e) => e.eventId === `${workflowId}:decision-2`));
      expect(body.stateValue).toBe('sent');
      const first = body.journal.find((e) => e.eventId === `${workflowId}:decision-1`);
      const second = body.journal.find((e) => e.eventId === `${workflowId}:decision-2`);
      expect(first).toMatchObject({ rejection: null, stateValue: 'sending' });
      expect(second?.rejection).toBe(`gate ${gateId} is not pending: no approval is pending in state "sending" (already decided, expired, or never requested)`);
      // Once nothing is pending, the gateway refuses a decision before publishing it.
      const late = await post(`/workflows/${workflowId}/approvals`, { decision: 'approved' }, stack.headers('approver'));
      expect(late.status).toBe(409);
    });

    it('delivers the change of a decided workflow on the SSE feeds (one workflow, and the fleet)', async () => {
      const workflowId = waiting[2];
      const one = new AbortController();
      const fleet = new AbortController();
      const single = await fetch(url(`/workflows/${workflowId}/feed`), { headers: stack.headers('viewer'), signal: one.signal });
      const all = await fetch(url(`/feed?api_key=${stack.apiKeys.viewer}`), { signal: fleet.signal });
      expect(single.status).toBe(200);
      const reaching = (event: { data: unknown }) => (event.data as { workflowId?: string; stateValue?: unknown }).workflowId === workflowId && (event.data as { stateValue?: unknown }).stateValue === 'sent';
      const [singleEvents, fleetEvents] = await Promise.all([
        readEvents(single, reaching, 30_000),
        readEvents(all, reaching, 30_000),
        post(`/workflows/${workflowId}/approvals`, { decision: 'approved' }, stack.headers('approver')),
      ]);
      one.abort();
      fleet.abort();
      const sent = singleEvents.find(reaching);
      expect(sent).toMatchObject({ event: 'workflow.changed', data: { workflowId, workflowType: 'email-triage', status: 'done', pendingApproval: null } });
      // The id is the change's WF_CHANGES stream sequence; both feeds see the same message.
      expect(sent?.id).toMatch(/^\d+$/);
      expect(fleetEvents.find(reaching)?.id).toBe(sent?.id);
      expect(singleEvents.map((e) => (e.data as { stateValue: unknown }).stateValue)).toEqual(['sending', 'sent']);
      expect(fleetEvents.some(reaching)).toBe(true);
    });
  });

  describe('resuming the SSE feed with Last-Event-ID', () => {
    const changeSequences = async (workflowId: string, after: number): Promise<number[]> => {
      // Straight from the stream, as the admin: what a resume after `after` must deliver.
      const consumer = await stack.connection.jetstream().consumers.get(STREAMS.workflowChanges.name, { filterSubjects: workflowChangedSubject(workflowId), opt_start_seq: after + 1, deliver_policy: DeliverPolicy.StartSequence });
      const sequences: number[] = [];
      for (;;) {
        const message = await consumer.next({ expires: 1_000 });
        if (message === null) break;
        sequences.push(message.seq);
      }
      return sequences;
    };

    it('delivers exactly the changes made while disconnected, then the live ones, to a client reconnecting with Last-Event-ID', async () => {
      const workflowId = 'triage-api-resume';
      stack.tracker.track([workflowId]);
      const before = (await stack.connection.jetstreamManager().then((jsm) => jsm.streams.info(STREAMS.workflowChanges.name))).state.last_seq;
      // Connect from the stream's current end (?lastEventId=, for clients that cannot set headers), then start the workflow.
      const first = new AbortController();
      const feed = await fetch(url(`/workflows/${workflowId}/feed?lastEventId=${before}`), { headers: stack.headers('viewer'), signal: first.signal });
      expect(feed.status).toBe(200);
      const started = await post('/workflows', { workflowType: 'email-triage', workflowId, payload: { email: await parseCorpusEmail(spareDrafted) } }, stack.headers('operator'));
      expect(started.status).toBe(202);
      const read = await readEvents(feed, () => true, 30_000);
      first.abort();
      expect(read).toHaveLength(1);
      const lastEventId = read[0].id;
      // While disconnected, the workflow moves on to its approval gate.
      const waited = await view(workflowId, (b) => b.pendingApproval?.gate === 'reply-approval');
      expect(waited.pendingApproval).toMatchObject({ gate: 'reply-approval', deadlineAt: expect.any(String), onDeadline: 'escalated' });
      const missed = await changeSequences(workflowId, Number(lastEventId));
      expect(missed.length).toBeGreaterThan(0);

      const second = new AbortController();
      const resumed = await fetch(url(`/workflows/${workflowId}/feed?lastEventId=0`), { headers: { ...stack.headers('viewer'), 'last-event-id': lastEventId }, signal: second.signal });
      expect(resumed.status).toBe(200);
      const stateOf = (event: { data: unknown }) => (event.data as { stateValue?: unknown }).stateValue;
      const stream = parseEventStream(resumed.body!)[Symbol.asyncIterator]();
      const nextEvent = async () => {
        const { value, done } = await stream.next();
        expect(done, 'the resumed feed ended').toBeFalsy();
        return { event: value!.event, id: value!.id ?? '', data: JSON.parse(value!.data) as unknown };
      };
      const events: Array<{ event: string; id: string; data: unknown }> = [];
      while (events.length < missed.length) events.push(await nextEvent());
      // The header wins over the query: exactly the missed changes, none before them, none twice.
      expect(events.map((event) => Number(event.id))).toEqual(missed);
      expect(stateOf(events[events.length - 1])).toBe('awaitingApproval');
      // The feed carries the gate's deadline as GET /workflows/:id does.
      expect((events[events.length - 1].data as { pendingApproval: unknown }).pendingApproval).toMatchObject({ deadlineAt: waited.pendingApproval?.deadlineAt, onDeadline: 'escalated' });
      // Then the live ones, on the same connection.
      expect((await post(`/workflows/${workflowId}/approvals`, { decision: 'approved' }, stack.headers('approver'))).status).toBe(202);
      while (stateOf(events[events.length - 1]) !== 'sent') events.push(await nextEvent());
      second.abort();
      expect(events.slice(missed.length).map(stateOf)).toEqual(['sending', 'sent']);
      const ids = events.map((event) => Number(event.id));
      expect(new Set(ids).size).toBe(ids.length);
      const versions = [read[0], ...events].map((event) => (event.data as { version: number }).version);
      expect(versions).toEqual(versions.map((_, n) => versions[0] + n));
      expect(ids).toEqual(await changeSequences(workflowId, Number(lastEventId)));
    });

    it('answers a malformed Last-Event-ID (header or query) with problem+json 400', async () => {
      for (const [route, headers] of [
        ['/feed', { 'last-event-id': 'triage-1:3' }],
        ['/feed', { 'last-event-id': '-1' }],
        ['/feed?lastEventId=1e3', {}],
        [`/workflows/${waiting[0]}/feed`, { 'last-event-id': '99999999999999999999' }],
      ] as const) {
        const response = await fetch(url(route), { headers: { ...stack.headers('viewer'), ...headers } });
        expect(response.status, `${route} ${JSON.stringify(headers)}`).toBe(400);
        expect(response.headers.get('content-type')).toContain('application/problem+json');
        expect(((await response.json()) as { title: string }).title).toMatch(/Last-Event-ID|lastEventId/);
      }
    });
  });

  describe('starting workflows, sending events, dead letters, statecharts, OpenAPI', () => {
    it('starts a workflow of a catalog type over HTTP and the orchestrator runs it', async () => {
      const email = await parseCorpusEmail(corpusSplit(loadSpamAssassinCorpus(), 'test').filter((e) => e.label === 'spam')[0]);
      const workflowId = 'triage-api-started';
      stack.tracker.track([workflowId]);
      const response = await post('/workflows', { workflowType: 'email-triage', workflowId, payload: { email } }, stack.headers('operator'));
      expect(response.status).toBe(202);
      expect(await response.json()).toEqual({ workflowId, eventId: `${workflowId}:email.received`, subject: workflowEventTypeSubject(workflowId, 'email.received') });
      expect(await stack.tracker.waitFor(() => stack.tracker.workflows.get(workflowId)?.settledAtMs != null, 60_000)).toBe(true);
      const again = await post('/workflows', { workflowType: 'email-triage', workflowId, payload: { email } }, stack.headers('operator'));
      expect(again.status).toBe(409);
      const generated = await post('/workflows', { workflowType: 'email-triage', payload: { email } }, stack.headers('admin'));
      expect(generated.status).toBe(202);
      expect(((await generated.json()) as { workflowId: string }).workflowId).toMatch(/^email-triage-/);
    });

    it('answers bad input with problem+json 400 naming the field, unknown things with 404, never 500', async () => {
      const operator = stack.headers('operator');
      const cases: Array<[Promise<Response>, number, string]> = [
        [post('/workflows', { workflowType: 'email-triage', payload: { email: 42 } }, operator), 400, 'payload.email'],
        [post('/workflows', { workflowType: 'no-such-type', payload: {} }, operator), 404, ''],
        [post('/workflows', { workflowType: 'email-triage', workflowId: 'has spaces', payload: {} }, operator), 400, 'workflowId'],
        [fetch(url('/workflows'), { method: 'POST', headers: operator, body: '{"not json' }), 400, ''],
        [fetch(url('/workflows?limit=0'), { headers: operator }), 400, 'limit'],
        [fetch(url('/workflows?cursor=!!'), { headers: operator }), 400, 'cursor'],
        [fetch(url('/workflows?status=sleeping'), { headers: operator }), 400, 'status'],
        [fetch(url('/workflows/bad%20id'), { headers: operator }), 400, ''],
        [fetch(url('/dead-letters?cursor=abc'), { headers: operator }), 400, 'cursor'],
        [post('/dead-letters/zero/replay', {}, operator), 400, ''],
        [fetch(url('/statecharts/no-such-type'), { headers: operator }), 404, ''],
        [post(`/workflows/${waiting[3]}/approvals`, { decision: 'edited' }, stack.headers('approver')), 400, 'editedText'],
        [post(`/workflows/${waiting[3]}/events`, { type: 'approval.decided', payload: {} }, operator), 400, ''],
        [post(`/workflows/${waiting[3]}/events`, { type: 'email.exploded', payload: {} }, operator), 400, ''],
        [post(`/workflows/${waiting[3]}/events`, { type: 'email.classified', payload: { label: 'maybe' } }, operator), 400, 'payload.label'],
        [post(`/workflows/${waiting[3]}/cancel`, {}, operator), 400, 'reason'],
        [post(`/workflows/${waiting[3]}/events`, { type: 'email.summarised', payload: { summary: 's', summariser: 'e2e' }, eventId: `${waiting[3]}:1:0:result` }, operator), 400, 'eventId'],
        [post(`/workflows/${waiting[3]}/cancel`, { reason: 'x'.repeat(300_000) }, operator), 413, ''],
        [fetch(url('/workflows'), { method: 'POST', headers: { ...operator, 'content-type': 'application/json; charset=latin9' }, body: '{}' }), 415, ''],
      ];
      for (const [pending, status, field] of cases) {
        const response = await pending;
        const problem = (await response.json()) as { status: number; title: string; issues?: string[]; instance: string };
        expect(response.status, JSON.stringify(problem)).toBe(status);
        expect(response.headers.get('content-type')).toContain('application/problem+json');
        expect(problem.status).toBe(status);
        if (field !== '') expect((problem.issues ?? []).join(' ')).toContain(field);
      }
    });

    it('publishes an event into a workflow, and the workflow journals what it does with it', async () => {
      const workflowId = waiting[3];
      const response = await post(`/workflows/${workflowId}/events`, { type: 'email.summarised', payload: { summary: 'late', summariser: 'e2e' }, eventId: `late-summary-${workflowId}` }, stack.headers('operator'));
      expect(response.status).toBe(202);
      const body = await view(workflowId, (b) => b.journal.some((e) => e.eventId === `late-summary-${workflowId}`));
      expect(body.journal.find((e) => e.eventId === `late-summary-${workflowId}`)?.rejection).toMatch(/not accepted in state "awaitingApproval"/);
      const journal = (await (await fetch(url(`/workflows/${workflowId}/journal`), { headers: stack.headers('viewer') })).json()) as { items: JournalEntry[] };
      expect(journal.items.map((e) => e.seq)).toEqual(journal.items.map((_, i) => i + 1));
    });

    it('lists a dead letter and replays it once: a second replay is 409, an unknown sequence 404', async () => {
      await stack.connection.jetstream().publish(workflowEventSubject('wf-api-garbage'), new TextEncoder().encode('not json at all'));
      let letter: { sequence: number; deadLetter: { reason: string } } | undefined;
      const deadline = Date.now() + 20_000;
      while (letter === undefined && Date.now() < deadline) {
        const page = (await (await fetch(url('/dead-letters?limit=1000'), { headers: stack.headers('viewer') })).json()) as { items: Array<{ sequence: number; subject: string; deadLetter: { reason: string; origin: { subject: string } } }> };
        letter = page.items.find((item) => item.deadLetter.origin.subject === workflowEventSubject('wf-api-garbage'));
        if (letter === undefined) await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(letter?.deadLetter.reason).toContain('not UTF-8 JSON');
      const replay = await post(`/dead-letters/${letter!.sequence}/replay`, {}, stack.headers('operator'));
      expect(replay.status).toBe(200);
      expect(await replay.json()).toMatchObject({ sequence: letter!.sequence, republishedTo: workflowEventSubject('wf-api-garbage'), duplicate: false });
      expect((await post(`/dead-letters/${letter!.sequence}/replay`, {}, stack.headers('operator'))).status).toBe(409);
      expect((await post('/dead-letters/999999999/replay', {}, stack.headers('operator'))).status).toBe(404);
    });

    it('serves the statechart of a workflow type for drawing', async () => {
      const response = await fetch(url('/statecharts/email-triage'), { headers: stack.headers('viewer') });
      const body = (await response.json()) as { machineVersion: string; machine: { id: string; states: Record<string, unknown> } };
      expect(body.machine.id).toBe('email-triage');
      expect(Object.keys(body.machine.states)).toEqual(expect.arrayContaining(['classifying', 'awaitingApproval', 'escalated', 'sent']));
    });

    it('serves an OpenAPI 3 document with every route, its security schemes and resolvable schema references', async () => {
      const document = (await (await fetch(url('/docs-json'))).json()) as {
        openapi: string;
        paths: Record<string, Record<string, { responses: Record<string, unknown>; requestBody?: unknown }>>;
        components: { securitySchemes: Record<string, unknown>; schemas?: Record<string, unknown> };
      };
      expect(document.openapi).toMatch(/^3\./);
      for (const route of ['/me', '/workflows', '/workflows/{id}', '/workflows/{id}/journal', '/workflows/{id}/events', '/workflows/{id}/approvals', '/workflows/{id}/cancel', '/approvals', '/dead-letters', '/dead-letters/{sequence}/replay', '/statecharts/{workflowType}', '/feed', '/workflows/{id}/feed', '/health']) {
        expect(Object.keys(document.paths), route).toContain(route);
      }
      expect(Object.keys(document.components.securitySchemes).sort()).toEqual(['api-key', 'jwt']);
      expect(document.paths['/workflows'].post.requestBody).toMatchObject({ content: { 'application/json': { schema: { properties: { workflowType: { type: 'string' } } } } } });
      const approvals = document.paths['/workflows/{id}/approvals'].post;
      expect(Object.keys(approvals.responses).sort()).toEqual(['202', '400', '401', '403', '404', '409']);
      // OpenAPI 3 rules a validator checks: unique operation ids, every path template parameter declared
      // as a required path parameter, every operation with responses.
      const operations = Object.entries(document.paths).flatMap(([route, methods]) => Object.entries(methods).map(([method, operation]) => ({ route, method, operation: operation as { operationId?: string; parameters?: Array<{ name: string; in: string; required?: boolean }>; responses: Record<string, unknown> } })));
      const ids = operations.map((o) => o.operation.operationId);
      expect(new Set(ids).size).toBe(ids.length);
      for (const { route, method, operation } of operations) {
        expect(Object.keys(operation.responses).length, `${method} ${route}`).toBeGreaterThan(0);
        for (const [, name] of route.matchAll(/\{([^}]+)\}/g)) {
          expect(operation.parameters?.find((p) => p.name === name && p.in === 'path')?.required, `${method} ${route} {${name}}`).toBe(true);
        }
      }
      const refs = [...JSON.stringify(document).matchAll(/"\$ref":"([^"]+)"/g)].map((match) => match[1]);
      for (const ref of refs) {
        expect(ref).toMatch(/^#\/components\/schemas\//);
        expect(document.components.schemas?.[ref.slice('#/components/schemas/'.length)], ref).toBeDefined();
      }
    });
  });
});
