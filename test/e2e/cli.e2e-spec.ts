import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVAL_DECIDED, workflowEventSubject, workflowEventTypeSubject, type Role } from '@troupe/contracts';
import { corpusSplit, loadSpamAssassinCorpus, parseCorpusEmail, type CorpusEmail } from '@troupe/email-corpus';
import { publishEnvelope } from '@troupe/bus';
import { publishEmails, readDeadLetters, startTroupeStack, type TroupeStack } from '@troupe/testing';
import { HeaderRuleRouter } from '../../apps/supervisor/src/routing/header-rule-router';

// The `troupe` CLI as a child process (`node -r tools/register.cjs apps/cli/src/main.ts`) against the four
// apps on a real nats-server, authenticated with the stack's API keys.

const ROOT = path.resolve(__dirname, '..', '..');
const JWT_ISSUER = 'https://issuer.cli-e2e.invalid';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A running CLI process: its output so far and its end. */
interface CliProcess {
  output: { stdout: string; stderr: string };
  done: Promise<Run>;
}

describe('the troupe CLI against a running stack', () => {
  let stack: TroupeStack;
  let drafted: string[];
  let all: string[];
  let token: string;
  /** A drafted ham email not published in `beforeAll`, for the tail-reconnect test. */
  let spareDrafted: CorpusEmail;

  const start = (args: string[], role: Role | null = 'viewer', extraEnv: Record<string, string> = {}): CliProcess => {
    const { TROUPE_API_KEY: _key, TROUPE_TOKEN: _token, ...inherited } = process.env;
    const env: NodeJS.ProcessEnv = { ...inherited, TROUPE_API_URL: stack.gatewayUrl, NO_COLOR: '1', ...(role === null ? {} : { TROUPE_API_KEY: stack.apiKeys[role] }), ...extraEnv };
    const child = spawn(process.execPath, ['-r', path.join(ROOT, 'tools', 'register.cjs'), path.join(ROOT, 'apps', 'cli', 'src', 'main.ts'), ...args], { cwd: ROOT, env });
    const output = { stdout: '', stderr: '' };
    child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
    const done = new Promise<Run>((resolve) => child.once('close', (code) => resolve({ code, ...output })));
    return { output, done };
  };
  const troupe = (args: string[], role: Role | null = 'viewer') => start(args, role).done;
  const json = <T>(run: Run): T => {
    expect(run.code, run.stderr).toBe(0);
    return JSON.parse(run.stdout) as T;
  };
  const waitFor = async (condition: () => boolean | Promise<boolean>, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return true;
  };

  beforeAll(async () => {
    // A local key set for JWT bearer tokens, beside the stack's API keys.
    const pair = await generateKeyPair('ES256');
    const jwksFile = path.join(mkdtempSync(path.join(tmpdir(), 'troupe-cli-jwks-')), 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'cli-key', alg: 'ES256', use: 'sig' }] }));
    token = await new SignJWT({ roles: ['viewer'] }).setProtectedHeader({ alg: 'ES256', kid: 'cli-key' }).setIssuer(JWT_ISSUER).setSubject('carol').setIssuedAt().setExpirationTime('10m').sign(pair.privateKey);
    stack = await startTroupeStack({ gatewayEnv: { TROUPE_JWT_ISSUER: JWT_ISSUER, TROUPE_JWT_JWKS_FILE: jwksFile } });
    const test = corpusSplit(loadSpamAssassinCorpus(), 'test');
    const router = new HeaderRuleRouter();
    const toDraft: CorpusEmail[] = [];
    for (const email of test.filter((e) => e.label === 'ham')) {
      if ((await router.route(await parseCorpusEmail(email))).route === 'draft_reply') toDraft.push(email);
      if (toDraft.length === 4) break;
    }
    spareDrafted = toDraft[3];
    drafted = await publishEmails(stack, 'cli-draft', toDraft.slice(0, 3));
    const others = await publishEmails(stack, 'cli-other', test.filter((e) => e.label === 'spam').slice(0, 3));
    all = [...drafted, ...others];
    expect(await stack.tracker.waitFor(() => stack.tracker.progress().settled === all.length, 120_000), `not settled; logs in ${stack.logDir}`).toBe(true);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('lists workflows as JSON for scripts and as a table for people', async () => {
    const page = json<{ items: Array<{ workflowId: string }>; nextCursor: string | null }>(await troupe(['workflows', 'list', '--id-prefix', 'triage-cli-', '--json']));
    expect(page.items.map((item) => item.workflowId).sort()).toEqual([...all].sort());
    const table = await troupe(['workflows', 'list', '--state', 'awaitingApproval', '--id-prefix', 'triage-cli-']);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0].split(/\s{2,}/)).toEqual(['WORKFLOW', 'TYPE', 'STATE', 'STATUS', 'VERSION', 'PENDING', 'UPDATED']);
    expect(lines.slice(2).map((line) => line.split(/\s{2,}/).slice(0, 6)).sort((a, b) => a[0].localeCompare(b[0]))).toEqual(
      [...drafted].sort().map((id) => [id, 'email-triage', 'awaitingApproval', 'active', '4', 'reply-approval']),
    );
  });

  it('shows one workflow with its pending approval and journal, and prints the journal alone', async () => {
    const shown = await troupe(['workflows', 'show', drafted[0]]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(`workflow: ${drafted[0]}`);
    expect(shown.stdout).toContain('state:    awaitingApproval');
    expect(shown.stdout).toContain(`gate:      reply-approval (${drafted[0]}:reply-approval)`);
    expect(shown.stdout).toMatch(/proposed:\n {2}Hello /);
    const journal = json<{ items: Array<{ seq: number; eventType: string }> }>(await troupe(['workflows', 'events', drafted[0], '--json']));
    expect(journal.items.map((entry) => entry.eventType)).toEqual(['email.received', 'email.classified', 'email.routed', 'reply.drafted']);
    const table = await troupe(['workflows', 'events', drafted[0]]);
    expect(table.stdout).toContain('drafting -> awaitingApproval');
  });

  it('lists the approval inbox', async () => {
    const inbox = json<{ items: Array<{ workflowId: string; pendingApproval: { gate: string } }> }>(await troupe(['approvals', 'list', '--json']));
    expect(inbox.items.filter((item) => item.workflowId.startsWith('triage-cli-')).map((item) => item.workflowId).sort()).toEqual([...drafted].sort());
    const table = await troupe(['approvals', 'list']);
    for (const workflowId of drafted) expect(table.stdout).toContain(workflowId);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0].split(/\s{2,}/)).toEqual(['WORKFLOW', 'GATE', 'STATE', 'ALLOWED', 'REQUESTED', 'DEADLINE', 'ON DEADLINE', 'PROPOSED']);
    // Each reply gate's deadline: the due time of its approval timer, then escalation.
    for (const line of lines.filter((row) => drafted.some((id) => row.startsWith(`${id} `)))) {
      const [, , , , requested, deadline, onDeadline] = line.split(/\s{2,}/);
      expect(Date.parse(deadline)).toBeGreaterThan(Date.parse(requested));
      expect(onDeadline).toBe('escalated');
    }
  });

  it('lists, shows, pauses and resumes a schedule', async () => {
    const [email] = corpusSplit(loadSpamAssassinCorpus(), 'test').filter((e) => e.label === 'spam');
    const created = await fetch(`${stack.gatewayUrl}/schedules`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': stack.apiKeys.operator },
      body: JSON.stringify({ scheduleId: 'cli-nightly', cron: '0 2 * * *', workflowType: 'email-triage', payload: { email: await parseCorpusEmail(email) } }),
    });
    expect(created.status).toBe(201);
    const listed = await troupe(['schedules', 'list']);
    expect(listed.code, listed.stderr).toBe(0);
    const row = listed.stdout.split('\n').find((line) => line.startsWith('cli-nightly '));
    expect(row?.split(/\s{2,}/).slice(0, 5)).toEqual(['cli-nightly', '0 2 * * *', 'UTC', 'email-triage', 'active']);
    const paused = await troupe(['schedules', 'pause', 'cli-nightly'], 'operator');
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toMatch(/^paused cli-nightly\nschedule: +cli-nightly\nstate: +paused/);
    expect(json<{ paused: boolean; nextTick: string | null }>(await troupe(['schedules', 'show', 'cli-nightly', '--json']))).toMatchObject({ paused: true, nextTick: null });
    const resumed = json<{ paused: boolean; nextTick: string | null }>(await troupe(['schedules', 'resume', 'cli-nightly', '--json'], 'operator'));
    expect(resumed.paused).toBe(false);
    expect(Date.parse(resumed.nextTick ?? '')).toBeGreaterThan(Date.now());
    const refused = await troupe(['schedules', 'pause', 'cli-nightly'], 'viewer');
    expect(refused.stderr).toMatch(/^error: 403 /);
    const unknown = await troupe(['schedules', 'show', 'no-such-schedule']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: 404 /);
  });

  it('approves a reply: the workflow reaches sent, tail sees it live, and a second decision is refused with 409', async () => {
    const tail = start(['tail', drafted[0], '--json', '--count', '2']);
    expect(await waitFor(() => tail.output.stderr.includes('following '), 30_000), tail.output.stderr).toBe(true);
    const approved = await troupe(['approvals', 'approve', drafted[0], '--comment', 'fine by the CLI'], 'approver');
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain(`approved ${drafted[0]} at gate ${drafted[0]}:reply-approval`);
    const tailed = await tail.done;
    expect(tailed.code, tailed.stderr).toBe(0);
    const changes = tailed.stdout.trim().split('\n').map((line) => JSON.parse(line) as { workflowId: string; version: number; stateValue: string });
    expect(changes.map((change) => [change.workflowId, change.version, change.stateValue])).toEqual([
      [drafted[0], 5, 'sending'],
      [drafted[0], 6, 'sent'],
    ]);
    const view = json<{ stateValue: string; journal: Array<{ eventType: string; event: { payload: { approver?: { id: string }; comment?: string } } }> }>(
      await troupe(['workflows', 'show', drafted[0], '--json']),
    );
    expect(view.stateValue).toBe('sent');
    expect(view.journal.find((entry) => entry.eventType === 'approval.decided')?.event.payload).toMatchObject({ approver: { id: 'e2e-approver' }, comment: 'fine by the CLI' });
    const again = await troupe(['approvals', 'approve', drafted[0]], 'approver');
    expect(again.code).toBe(1);
    expect(again.stdout).toBe('');
    expect(again.stderr).toMatch(/^error: 409 No pending approval\n/);
  });

  it('tail reconnects with Last-Event-ID after the gateway restarts, and prints the changes made while it was down, each once', async () => {
    const workflowId = 'triage-cli-tail-0';
    const tail = start(['tail', workflowId, '--json', '--count', '6', '--reconnect-delay', '200', '--max-reconnects', '150']);
    expect(await waitFor(() => tail.output.stderr.includes('following '), 30_000), tail.output.stderr).toBe(true);
    expect(await publishEmails(stack, 'cli-tail', [spareDrafted])).toEqual([workflowId]);
    const printed = () => tail.output.stdout.split('\n').filter((line) => line !== '').length;
    // Received, classified, routed, drafted: the reply waits at its gate.
    expect(await waitFor(() => printed() === 4, 60_000), tail.output.stdout).toBe(true);
    await stack.apps.get('gateway')!.stop('SIGTERM');
    // While the gateway is down, the reply is approved on the bus and sent.
    await publishEnvelope(stack.connection.jetstream(), workflowEventTypeSubject(workflowId, APPROVAL_DECIDED), {
      id: `${workflowId}:bus-approval`,
      type: APPROVAL_DECIDED,
      workflowId,
      correlationId: workflowId,
      causationId: null,
      occurredAt: new Date().toISOString(),
      source: 'cli-e2e',
      payload: { gateId: `${workflowId}:reply-approval`, decision: 'approved', approver: { id: 'cli-e2e-bot', roles: ['approver'] }, comment: null, editedText: null },
    });
    expect(await stack.tracker.waitFor(() => stack.tracker.workflows.get(workflowId)?.last?.stateValue === 'sent', 30_000)).toBe(true);
    expect(printed()).toBe(4);
    await stack.start('gateway');
    const tailed = await tail.done;
    expect(tailed.code, tailed.stderr).toBe(0);
    const changes = tailed.stdout.trim().split('\n').map((line) => JSON.parse(line) as { workflowId: string; version: number; stateValue: string });
    expect(changes.map((change) => change.version)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(changes.slice(4).map((change) => change.stateValue)).toEqual(['sending', 'sent']);
    expect(tailed.stderr).toMatch(/reconnecting in 200 ms with Last-Event-ID \d+/);
    expect(tailed.stderr).toMatch(/following \S+ after event \d+/);
  });

  it('rejects and edits through the CLI', async () => {
    const edited = await troupe(['approvals', 'edit', drafted[1], '--text', 'Edited by the CLI.'], 'approver');
    expect(edited.code, edited.stderr).toBe(0);
    const rejected = await troupe(['approvals', 'reject', drafted[2], '--comment', 'not this one'], 'approver');
    expect(rejected.code, rejected.stderr).toBe(0);
    const settled = await waitFor(async () => {
      const page = JSON.parse((await troupe(['workflows', 'list', '--id-prefix', 'triage-cli-draft-', '--json'])).stdout) as { items: Array<{ workflowId: string; stateValue: string }> };
      const states = Object.fromEntries(page.items.map((item) => [item.workflowId, item.stateValue]));
      return states[drafted[1]] === 'sent' && states[drafted[2]] === 'rejected';
    }, 30_000);
    expect(settled).toBe(true);
    const view = json<{ context: { finalReplyBody: string } }>(await troupe(['workflows', 'show', drafted[1], '--json']));
    expect(view.context.finalReplyBody).toBe('Edited by the CLI.');
  });

  it('authenticates with a JWT from TROUPE_TOKEN or --token as a Bearer credential', async () => {
    const fromEnv = await start(['whoami', '--json'], null, { TROUPE_TOKEN: token }).done;
    expect(json<{ id: string; roles: string[]; via: string }>(fromEnv)).toEqual({ id: 'carol', roles: ['viewer'], via: 'jwt' });
    const without = await start(['whoami'], null).done;
    expect(without.code).toBe(1);
    const withFlag = await start(['--token', token, 'approvals', 'list', '--json'], null).done;
    expect(withFlag.code, withFlag.stderr).toBe(0);
  });

  it('prints the problem and exits 1 without a credential, with a wrong one, or with a role not allowed', async () => {
    const none = await troupe(['workflows', 'list'], null);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^error: 401 Unauthorized\n {2}no credential/);
    const wrong = await start(['workflows', 'list', '--api-key', 'not-a-key'], null).done;
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^error: 401 /);
    const viewer = await troupe(['dlq', 'replay', '1'], 'viewer');
    expect(viewer.code).toBe(1);
    expect(viewer.stderr).toMatch(/^error: 403 Forbidden\n {2}e2e-viewer \(roles viewer\) may not call this route/);
    const asJson = await troupe(['approvals', 'approve', drafted[0], '--json'], 'viewer');
    expect(asJson.code).toBe(1);
    expect(JSON.parse(asJson.stderr)).toMatchObject({ status: 403, title: 'Forbidden', instance: `/workflows/${drafted[0]}/approvals` });
  });

  it('sends an event: a finished workflow refuses it with 409, and a payload of the wrong shape is a 400 naming each issue', async () => {
    const sent = await troupe(['send', 'triage-cli-other-0', 'email.summarised', '--payload', '{"summary":"late","summariser":"cli"}'], 'operator');
    // The spam workflow is finished: the gateway refuses with 409 before publishing.
    expect(sent.code).toBe(1);
    expect(sent.stderr).toMatch(/^error: 409 /);
    const bad = await troupe(['send', drafted[0], 'email.summarised', '--payload', '{"summary":42}'], 'operator');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: 400 /);
    expect(bad.stderr).toMatch(/\n {2}- .*summary/);
  });

  it('lists dead letters and replays one', async () => {
    const since = new Date();
    await stack.connection.jetstream().publish(workflowEventSubject('wf-cli-garbage'), new TextEncoder().encode('not json for the CLI test'));
    expect(await readDeadLetters(stack.connection, since, 1)).toHaveLength(1);
    const page = json<{ items: Array<{ sequence: number; deadLetter: { reason: string; dataBase64: string } }> }>(await troupe(['dlq', 'list', '--json'], 'operator'));
    const letter = page.items.find((item) => Buffer.from(item.deadLetter.dataBase64, 'base64').toString() === 'not json for the CLI test');
    expect(letter?.deadLetter.reason).toContain('not UTF-8 JSON');
    const table = await troupe(['dlq', 'list'], 'operator');
    expect(table.stdout.split('\n')[0].split(/\s{2,}/)).toEqual(['SEQ', 'DEAD-LETTERED', 'CONSUMER', 'SUBJECT', 'DELIVERIES', 'REASON']);
    expect(table.stdout).toContain(workflowEventSubject('wf-cli-garbage'));
    const replayed = await troupe(['dlq', 'replay', String(letter!.sequence)], 'operator');
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(replayed.stdout).toBe(`replayed dead letter ${letter!.sequence} to ${workflowEventSubject('wf-cli-garbage')}\n`);
    const twice = await troupe(['dlq', 'replay', String(letter!.sequence)], 'operator');
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/^error: (404|409) /);
  });

  it('replays a workflow to step N, or prints the server\'s problem where the route does not exist', async () => {
    const replay = await troupe(['workflows', 'replay', drafted[0], '--step', '2']);
    if (replay.code === 0) expect(replay.stdout).toMatch(/^step: +2 of 6\nstate: +routing\n/);
    else {
      expect(replay.code).toBe(1);
      expect(replay.stderr).toMatch(/^error: \d{3} .*\n[\s\S]*\(GET http:\/\/127\.0\.0\.1:\d+\/workflows\/triage-cli-draft-0\/replay\?step=2\)/);
    }
  });

  it('exits 2 on a command line it does not understand', async () => {
    const run = await troupe(['workflows', 'replay', drafted[0]]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("required option '--step <n>' not specified");
  });
});
