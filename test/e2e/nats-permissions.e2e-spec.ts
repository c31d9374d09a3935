import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import { publishEnvelope } from '@troupe/bus';
import {
  APPROVAL_DECIDED,
  EMAIL_CLASSIFIED,
  EMAIL_RECEIVED,
  EMAIL_ROUTED,
  emailReceivedEnvelope,
  workflowEventSubject,
  workflowEventTypeSubject,
  type Envelope,
  type PendingApproval,
} from '@troupe/contracts';
import { corpusSplit, loadSpamAssassinCorpus, parseCorpusEmail, type CorpusEmail } from '@troupe/email-corpus';
import { freePort, pollJson, readDeadLetters, startTroupeStack, type TroupeStack } from '@troupe/testing';
import { REPOSITORY_ROOT, startApp } from '../../apps/demo/src/stack';
import { parseEventStream } from '../../apps/cli/src/sse';
import { HeaderRuleRouter } from '../../apps/supervisor/src/routing/header-rule-router';

const CONFIG = path.join(REPOSITORY_ROOT, 'deploy', 'nats', 'troupe-permissions.conf');
const USERS = ['admin', 'orchestrator', 'supervisor', 'agents', 'gateway', 'approval-client', 'producer'] as const;
type NatsUser = (typeof USERS)[number];

/** The server's environment variable holding a user's password (deploy/nats/troupe-permissions.conf). */
const passwordVariable = (user: NatsUser): string => `TROUPE_NATS_${user.toUpperCase().replace(/-/g, '_')}_PASSWORD`;

interface WorkflowView {
  stateValue: unknown;
  pendingApproval: PendingApproval | null;
  context: Record<string, unknown> | null;
  journal: Array<{ eventId: string; eventType: string; event: unknown }>;
}

describe('least privilege on NATS: each app with its own user and subject permissions', () => {
  // nats-server parses a `$VARIABLE`'s value as a config token: one starting with a digit is read as a
  // number and the server refuses to start, so each password starts with a letter.
  const passwords = Object.fromEntries(USERS.map((user) => [user, `p${randomBytes(18).toString('base64url')}`])) as Record<NatsUser, string>;
  // Planted secrets: none of them may appear in any app's log.
  const modelApiKey = `sk-planted-${randomBytes(12).toString('hex')}`;
  let stack: TroupeStack;
  let workflowIds: string[];
  const clients: NatsConnection[] = [];
  const as = async (user: NatsUser): Promise<NatsConnection> => {
    const connection = await connect({ servers: stack.nats.url, user, pass: passwords[user], name: `e2e-${user}` });
    clients.push(connection);
    return connection;
  };

  beforeAll(async () => {
    const appUser = (user: NatsUser): Record<string, string> => ({ NATS_USER: user, NATS_PASSWORD: passwords[user] });
    const agentsPasswordFile = path.join(tmpdir(), `troupe-agents-password-${process.pid}`);
    writeFileSync(agentsPasswordFile, `${passwords.agents}\n`, { mode: 0o600 });
    stack = await startTroupeStack({
      natsServer: { configFile: CONFIG, env: Object.fromEntries(USERS.map((user) => [passwordVariable(user), passwords[user]])) },
      natsUser: { user: 'admin', pass: passwords.admin },
      env: { TROUPE_PROVISION_STREAMS: 'false' },
      appEnv: {
        orchestrator: appUser('orchestrator'),
        supervisor: appUser('supervisor'),
        // The agents read their password from a file (NATS_PASSWORD_FILE), as from a mounted secret.
        agents: { NATS_USER: 'agents', NATS_PASSWORD_FILE: agentsPasswordFile },
        gateway: appUser('gateway'),
      },
    });
    const test = corpusSplit(loadSpamAssassinCorpus(), 'test');
    const router = new HeaderRuleRouter();
    const drafted: CorpusEmail[] = [];
    for (const email of test.filter((e) => e.label === 'ham')) {
      if ((await router.route(await parseCorpusEmail(email))).route === 'draft_reply') drafted.push(email);
      if (drafted.length === 3) break;
    }
    const emails = [...drafted, ...test.filter((e) => e.label === 'spam').slice(0, 2)];
    // The producer may publish start events, and nothing else.
    const producer = await as('producer');
    workflowIds = [];
    for (const [index, email] of emails.entries()) {
      const workflowId = `triage-perm-${index}`;
      const envelope = emailReceivedEnvelope(workflowId, await parseCorpusEmail(email), { source: 'e2e-producer', occurredAt: new Date().toISOString() });
      stack.tracker.track([workflowId]);
      await publishEnvelope(producer.jetstream(), workflowEventTypeSubject(workflowId, EMAIL_RECEIVED), envelope, { msgId: envelope.id });
      workflowIds.push(workflowId);
    }
    const settled = await stack.tracker.waitFor(() => stack.tracker.progress().settled === workflowIds.length, 120_000);
    expect(settled, `not every workflow settled; logs in ${stack.logDir}; nats-server: ${stack.nats.log()}`).toBe(true);
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await stack?.stop();
  });

  const waiting = async (): Promise<{ workflowId: string; pendingApproval: PendingApproval }[]> => {
    const response = await fetch(`${stack.gatewayUrl}/workflows?state=awaitingApproval&idPrefix=triage-perm-`, { headers: stack.headers('viewer') });
    return ((await response.json()) as { items: Array<{ workflowId: string; pendingApproval: PendingApproval }> }).items;
  };
  const decision = (workflowId: string, gateId: string, id: string): Envelope => ({
    id,
    type: APPROVAL_DECIDED,
    workflowId,
    correlationId: workflowId,
    causationId: null,
    occurredAt: new Date().toISOString(),
    source: 'e2e-test',
    payload: { gateId, decision: 'approved', approver: { id: 'bot-approver', roles: ['approver'] }, comment: null, editedText: null },
  });

  it('runs the triage workflows to their final or waiting states with every app on its own user', async () => {
    const { items } = (await (await fetch(`${stack.gatewayUrl}/workflows?idPrefix=triage-perm-&limit=100`, { headers: stack.headers('viewer') })).json()) as {
      items: Array<{ workflowId: string; statePaths: string[] }>;
    };
    expect(items.map((item) => item.workflowId).sort()).toEqual([...workflowIds].sort());
    expect(items.some((item) => item.statePaths.includes('awaitingApproval'))).toBe(true);
  });

  it('refuses an approval decision published by the agents user (permissions violation), and the workflow does not move', async () => {
    const [target] = await waiting();
    const agents = await as('agents');
    const errors: string[] = [];
    void (async () => {
      for await (const status of agents.status()) if (status.type === 'error') errors.push(String(status.data));
    })();
    const forbidden = workflowEventTypeSubject(target.workflowId, APPROVAL_DECIDED);
    const refused = await publishEnvelope(agents.jetstream({ timeout: 2_000 }), forbidden, decision(target.workflowId, target.pendingApproval.gateId, `${target.workflowId}:forged`)).then(
      () => null,
      (error: Error) => error,
    );
    expect(refused, 'the server acknowledged a forbidden publish').not.toBeNull();
    // Nor may the agents publish any other type that is not theirs, or on the untyped subject.
    for (const subject of [
      workflowEventSubject(target.workflowId),
      workflowEventTypeSubject(target.workflowId, 'workflow.cancel_requested'),
      workflowEventTypeSubject(target.workflowId, EMAIL_RECEIVED),
      workflowEventTypeSubject(target.workflowId, 'timer.fired'),
      workflowEventTypeSubject(target.workflowId, 'email.routed'),
    ]) {
      const error = await agents.jetstream({ timeout: 2_000 }).publish(subject, new TextEncoder().encode('{}')).then(() => null, (e: Error) => e);
      expect(error?.message, subject).toMatch(/permissions violation for publish/i);
    }
    // The producer may start workflows, not decide them.
    const producer = await as('producer');
    const producerError = await producer.jetstream({ timeout: 2_000 }).publish(forbidden, new TextEncoder().encode('{}')).then(() => null, (e: Error) => e);
    expect(producerError?.message).toMatch(/permissions violation for publish/i);
    await agents.flush();
    await pollJson(`${stack.gatewayUrl}/me`, () => errors.length >= 1, 5_000, stack.headers('viewer'));
    expect(errors).toContain('PERMISSIONS_VIOLATION');
    expect(refused?.message).toMatch(/permissions violation for publish to "troupe\.wf\.\d+\.triage-perm-\d+\.approval\.decided"/i);
    expect(stack.nats.log()).toMatch(new RegExp(`Publish Violation.*User "agents".*${forbidden.replace(/\./g, '\\.')}`));
    expect(stack.nats.log()).toMatch(new RegExp(`Publish Violation.*User "agents".*"${workflowEventSubject(target.workflowId).replace(/\./g, '\\.')}"`));
    const view = (await (await fetch(`${stack.gatewayUrl}/workflows/${target.workflowId}`, { headers: stack.headers('viewer') })).json()) as WorkflowView;
    expect(view.stateValue).toBe('awaitingApproval');
    expect(view.journal.some((entry) => entry.eventId.endsWith(':forged'))).toBe(false);
  });

  it('dead-letters an approval decision the agents smuggle onto a subject they may publish (another event type)', async () => {
    const [target] = await waiting();
    const since = new Date();
    const agents = await as('agents');
    const smuggled = decision(target.workflowId, target.pendingApproval.gateId, `${target.workflowId}:smuggled`);
    await publishEnvelope(agents.jetstream(), workflowEventTypeSubject(target.workflowId, EMAIL_CLASSIFIED), smuggled, { msgId: smuggled.id });
    const letters = await readDeadLetters(stack.connection, since, 1);
    expect(letters.map((letter) => letter.subject)).toEqual(['troupe.dlq.orchestrator']);
    expect(letters[0].letter.reason).toContain(`approval.decided for ${target.workflowId} arrived on ${workflowEventTypeSubject(target.workflowId, EMAIL_CLASSIFIED)}`);
    const view = (await (await fetch(`${stack.gatewayUrl}/workflows/${target.workflowId}`, { headers: stack.headers('viewer') })).json()) as WorkflowView;
    expect(view.stateValue).toBe('awaitingApproval');
  });

  it('accepts an approval decision from the approval client, and the reply is sent', async () => {
    const [target] = await waiting();
    const client = await as('approval-client');
    const ack = await publishEnvelope(client.jetstream(), workflowEventTypeSubject(target.workflowId, APPROVAL_DECIDED), decision(target.workflowId, target.pendingApproval.gateId, `${target.workflowId}:bot`));
    expect(ack).toBeDefined();
    const view = await pollJson<WorkflowView>(`${stack.gatewayUrl}/workflows/${target.workflowId}`, (body) => body.stateValue === 'sent', 30_000, stack.headers('viewer'));
    expect(view.stateValue).toBe('sent');
  });

  it('accepts a decision through the gateway (its own user) over HTTP', async () => {
    const [target] = await waiting();
    const response = await fetch(`${stack.gatewayUrl}/workflows/${target.workflowId}/approvals`, {
      method: 'POST',
      headers: stack.headers('approver'),
      body: JSON.stringify({ decision: 'rejected', comment: 'no' }),
    });
    expect(response.status).toBe(202);
    const view = await pollJson<WorkflowView>(`${stack.gatewayUrl}/workflows/${target.workflowId}`, (body) => body.stateValue === 'rejected', 30_000, stack.headers('viewer'));
    expect(view.stateValue).toBe('rejected');
  });

  it('resumes the SSE change feed from the stream (an ordered consumer on WF_CHANGES) as the gateway user', async () => {
    const controller = new AbortController();
    const response = await fetch(`${stack.gatewayUrl}/feed`, { headers: { ...stack.headers('viewer'), 'last-event-id': '0' }, signal: controller.signal });
    expect(response.status).toBe(200);
    const ids: number[] = [];
    for await (const event of parseEventStream(response.body!)) {
      ids.push(Number(event.id));
      if (ids.length === 3) break;
    }
    controller.abort();
    // From the first change the stream holds: the oldest sequences, in order.
    expect(ids).toEqual([1, 2, 3]);
  });

  it('no app met a permissions violation: the configuration grants each what it needs', () => {
    const violations = stack.nats.log().split('\n').filter((line) => /Violation/.test(line) && !/e2e-(agents|producer)/.test(line));
    expect(violations).toEqual([]);
    // Nor did any app see one (a refused publish, consumer or KV call surfaces in its own log).
    const appLogs = readdirSync(stack.logDir).filter((file) => /Permissions Violation/i.test(readFileSync(path.join(stack.logDir, file), 'utf8')));
    expect(appLogs, `app logs in ${stack.logDir}`).toEqual([]);
  });

  it('never logs the model API key, even when every model call fails (supervisor on an unreachable OpenAI-compatible endpoint)', async () => {
    await stack.apps.get('supervisor')?.stop();
    const logFile = path.join(stack.logDir, 'supervisor-model.log');
    const supervisor = startApp('supervisor', {
      logFile,
      env: {
        NATS_URL: stack.nats.url,
        NATS_USER: 'supervisor',
        NATS_PASSWORD: passwords.supervisor,
        TROUPE_PROVISION_STREAMS: 'false',
        TROUPE_MODEL_PROVIDER: 'openai-compatible',
        TROUPE_MODEL_NAME: 'planted-model',
        TROUPE_MODEL_BASE_URL: `http://127.0.0.1:${await freePort()}/v1`,
        TROUPE_MODEL_API_KEY: modelApiKey,
      },
    });
    stack.apps.set('supervisor', supervisor);
    await supervisor.ready;
    const producer = await as('producer');
    const [email] = corpusSplit(loadSpamAssassinCorpus(), 'test').filter((e) => e.group === 'easy-ham-1');
    const workflowId = 'triage-perm-model';
    const envelope = emailReceivedEnvelope(workflowId, await parseCorpusEmail(email), { source: 'e2e-producer', occurredAt: new Date().toISOString() });
    await publishEnvelope(producer.jetstream(), workflowEventTypeSubject(workflowId, EMAIL_RECEIVED), envelope, { msgId: envelope.id });
    // The supervisor's model chain falls back to the header rules when the model cannot be reached, so
    // the email is routed all the same, by the fallback (or, should the router fail for good, email-triage@4
    // hands it to a reviewer; or it is quarantined as spam).
    const routedBy = (body: WorkflowView): string | undefined =>
      (body.journal.find((entry) => entry.eventType === EMAIL_ROUTED)?.event as { payload?: { router?: string } } | undefined)?.payload?.router;
    const routerHandedOver = (body: WorkflowView): boolean =>
      ((body.context?.agentFailures ?? []) as Array<{ agent: string }>).some((failure) => failure.agent === 'supervisor');
    const view = await pollJson<WorkflowView>(
      `${stack.gatewayUrl}/workflows/${workflowId}`,
      (body) => routedBy(body) !== undefined || routerHandedOver(body) || body.stateValue === 'quarantined',
      90_000,
      stack.headers('viewer'),
    );
    const router = routedBy(view);
    if (router !== undefined) expect(router, 'routed by the model it cannot reach').toMatch(/fallback/);
    else if (routerHandedOver(view)) expect(view.stateValue).toBe('humanReview');
    else expect(view.stateValue).toBe('quarantined');
    const log = readFileSync(logFile, 'utf8');
    expect(log).toMatch(/planted-model|ECONNREFUSED|Cannot connect|fetch failed/i);
    expect(log.includes(modelApiKey)).toBe(false);
  });

  it('writes no planted secret (NATS passwords, the model API key, the gateway API keys) into any log', () => {
    const logs = readdirSync(stack.logDir).map((file) => readFileSync(path.join(stack.logDir, file), 'utf8')).join('\n');
    expect(logs.length).toBeGreaterThan(0);
    const secrets = [...USERS.map((user) => passwords[user]), modelApiKey, ...Object.values(stack.apiKeys)];
    for (const secret of secrets) expect(logs.includes(secret), 'a secret was logged').toBe(false);
    expect(stack.nats.log().includes(passwords.agents)).toBe(false);
  });
});
