import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishEnvelope } from '@troupe/bus';
import { generateSyntheticClaims, type ClaimScenario } from '@troupe/claims-corpus';
import {
  AGENT_TASK_REQUESTED,
  APPROVAL_DECIDED,
  CLAIM_SUBMITTED,
  EMAIL_RECEIVED,
  FAN_OUT_TASK,
  agentTaskSubject,
  emailReceivedEnvelope,
  encodeEnvelope,
  supervisionId,
  workflowEventTypeSubject,
  type JournalEntry,
  type PendingApproval,
  type ScheduleView,
} from '@troupe/contracts';
import { corpusSplit, loadSpamAssassinCorpus, parseCorpusEmail, type CorpusEmail } from '@troupe/email-corpus';
import { detectAlerts, loadSuthaharanReadings } from '@troupe/sensor-data';
import { pollJson, pollUntil, startLeastPrivilegeStack, type LeastPrivilegeStack } from '@troupe/testing';
import { startApp } from '../../apps/demo/src/stack';
import { HeaderRuleRouter } from '../../apps/supervisor/src/routing/header-rule-router';

// Every flow but email triage's approvals (test/e2e/nats-permissions.e2e-spec.ts) with each app on its own
// NATS user under deploy/nats/troupe-permissions.conf: claims on every branch, incidents (one decided
// over HTTP each way), a cron schedule, ReAct agent runs (TROUPE_REACT_LOOP=always), a supervisor
// fan-out, dead letters replayed over HTTP and a fork over HTTP. Then neither nats-server nor any app
// saw a permissions violation.

/** The claim review gate escalates to a manager after this long (48 h in production). */
const REVIEW_TIMEOUT_MS = 10_000;

interface WorkflowView {
  workflowId: string;
  workflowType: string;
  status: string;
  stateValue: unknown;
  tags: Record<string, string>;
  pendingApproval: PendingApproval | null;
  context: Record<string, unknown> | null;
  journal: JournalEntry[];
}

describe('every workflow on NATS with each app on its own least-privilege user', () => {
  let perms: LeastPrivilegeStack;
  const claims = generateSyntheticClaims({ seed: 8, count: 7 });
  const claimOf = (scenario: ClaimScenario) => claims.find(({ expected }) => expected.scenario === scenario)!;
  const alerts = detectAlerts(loadSuthaharanReadings()).alerts;
  let scheduleStartMs: number;

  const url = (path: string) => `${perms.stack.gatewayUrl}${path}`;
  const post = (path: string, body: unknown, role: 'operator' | 'approver' | 'admin' = 'operator') =>
    fetch(url(path), { method: 'POST', headers: perms.stack.headers(role), body: JSON.stringify(body) });
  const view = (workflowId: string, predicate: (body: WorkflowView) => boolean, timeoutMs = 60_000) =>
    pollJson<WorkflowView>(url(`/workflows/${workflowId}`), predicate, timeoutMs, perms.stack.headers('viewer'));
  const closed = (workflowId: string) => view(workflowId, (body) => body.status !== 'active');
  const gate = (workflowId: string, name: string) => view(workflowId, (body) => body.pendingApproval?.gate === name);
  const start = async (workflowType: string, workflowId: string, payload: unknown) => {
    const response = await post('/workflows', { workflowType, workflowId, payload });
    expect(response.status, await response.clone().text()).toBe(202);
  };

  type DeadLetterPage = { items: Array<{ sequence: number; subject: string; deadLetter: { origin: { subject: string }; dataBase64: string } }> };
  /** The dead letters listed over HTTP whose message was published on `subject`. */
  const deadLettersOf = async (subject: string) =>
    (await pollJson<DeadLetterPage>(url('/dead-letters?limit=1000'), () => true, 5_000, perms.stack.headers('viewer'))).items.filter((item) => item.deadLetter.origin.subject === subject);
  /** The first dead letter of `subject`, once listed (polls up to 20 s). */
  const firstDeadLetterOf = async (subject: string) => {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const [letter] = await deadLettersOf(subject);
      if (letter !== undefined) return letter;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`no dead letter of ${subject}`);
  };

  beforeAll(async () => {
    perms = await startLeastPrivilegeStack({
      env: {
        TROUPE_CLAIM_REVIEW_TIMEOUT_MS: String(REVIEW_TIMEOUT_MS),
        TROUPE_CLAIM_ESCALATION_TIMEOUT_MS: '600000',
        TROUPE_APPROVAL_TIMEOUT_MS: '600000',
        TROUPE_ESCALATION_TIMEOUT_MS: '600000',
      },
      // The drafter, summariser and spam-quarantine agents run as ReAct loops (react-loop actors hosted by
      // the orchestrator, model and tool calls as effects), here over the non-LLM fallback alone.
      appEnv: { agents: { TROUPE_REACT_LOOP: 'always' } },
    });
    // The cron schedule first: it fires in the background while the other flows run.
    scheduleStartMs = Math.ceil((Date.now() + 2_000) / 1_000) * 1_000;
    const created = await post('/schedules', {
      scheduleId: 'perm-cron',
      cron: '* * * * * *',
      workflowType: 'incident-response',
      payload: { alert: alerts.at(-1) },
      startAt: new Date(scheduleStartMs).toISOString(),
      stopAt: new Date(scheduleStartMs + 3_000).toISOString(),
    });
    expect(created.status, await created.clone().text()).toBe(201);
  });

  afterAll(async () => {
    await perms?.stop();
  });

  it('runs claims on every branch to closed: auto, senior agent (approved, rejected), human (approved, rejected) and the manager after the review deadline', async () => {
    const cases: Array<[string, ClaimScenario]> = [
      ['claim-perm-routine', 'routine'],
      ['claim-perm-covered', 'covered-medium'],
      ['claim-perm-excluded', 'excluded-medium'],
      ['claim-perm-police', 'police-report'],
      ['claim-perm-injury', 'injury'],
      ['claim-perm-grave', 'grave-loss'],
      ['claim-perm-over', 'over-threshold'],
    ];
    // Started over HTTP by an operator: the gateway publishes claim.submitted on its own user.
    await Promise.all(cases.map(([workflowId, scenario]) => start('claim-processing', workflowId, { claim: claimOf(scenario).claim })));
    const injury = await gate('claim-perm-injury', 'claim-review');
    const grave = await gate('claim-perm-grave', 'claim-review');
    expect((await post('/workflows/claim-perm-injury/approvals', { gateId: injury.pendingApproval!.gateId, decision: 'approved', comment: 'report attached' }, 'approver')).status).toBe(202);
    expect((await post('/workflows/claim-perm-grave/approvals', { gateId: grave.pendingApproval!.gateId, decision: 'rejected', comment: 'not covered' }, 'approver')).status).toBe(202);
    // The review deadline passes (a durable timer): a manager decides with an edited amount.
    const escalated = await view('claim-perm-over', (body) => body.stateValue === 'reviewEscalated', REVIEW_TIMEOUT_MS + 30_000);
    expect(escalated.pendingApproval).toMatchObject({ gate: 'claim-review-escalated', allowedRoles: ['admin'] });
    expect((await post('/workflows/claim-perm-over/approvals', { gateId: escalated.pendingApproval!.gateId, decision: 'edited', editedText: '9000' }, 'admin')).status).toBe(202);

    const expected: Record<string, Record<string, string>> = {
      'claim-perm-routine': { route: 'auto', outcome: 'approved' },
      'claim-perm-covered': { route: 'senior-agent', outcome: 'approved' },
      'claim-perm-excluded': { route: 'senior-agent', outcome: 'rejected' },
      'claim-perm-police': { route: 'senior-agent', outcome: 'approved' },
      'claim-perm-injury': { route: 'human', outcome: 'approved' },
      'claim-perm-grave': { route: 'human', outcome: 'rejected' },
      'claim-perm-over': { route: 'manager', outcome: 'approved' },
    };
    for (const [workflowId] of cases) {
      const done = await closed(workflowId);
      expect({ workflowId, stateValue: done.stateValue, tags: done.tags }).toMatchObject({ workflowId, stateValue: 'closed', tags: expected[workflowId] });
    }
  });

  it('runs incidents from the sensor alerts: a critical one pages, takes the safe action and runs the fix approved over HTTP; a rejected one escalates', async () => {
    const critical = alerts.find((alert) => alert.severity === 'critical')!;
    await start('incident-response', 'incident-perm-approve', { alert: critical });
    await start('incident-response', 'incident-perm-reject', { alert: alerts.at(-1) });
    const waiting = await gate('incident-perm-approve', 'fix-approval');
    expect(waiting.journal.map((entry) => entry.eventType)).toEqual(expect.arrayContaining(['oncall.paged', 'safe_action.applied']));
    expect((await post('/workflows/incident-perm-approve/approvals', { decision: 'approved', comment: 'go' }, 'approver')).status).toBe(202);
    await gate('incident-perm-reject', 'fix-approval');
    expect((await post('/workflows/incident-perm-reject/approvals', { decision: 'rejected', comment: 'site visit' }, 'approver')).status).toBe(202);
    const fixed = await closed('incident-perm-approve');
    expect({ stateValue: fixed.stateValue, outcome: fixed.context?.outcome }).toEqual({ stateValue: 'closed', outcome: 'fixed' });
    const escalated = await closed('incident-perm-reject');
    expect({ stateValue: escalated.stateValue, outcome: escalated.context?.outcome }).toEqual({ stateValue: 'closed', outcome: 'escalated' });
  });

  it('fires the cron schedule created over HTTP three times, and each incident it started settles', async () => {
    const done = await pollJson<ScheduleView>(url('/schedules/perm-cron'), (s) => s.nextTick === null && s.claim === null && s.firedCount >= 3, 30_000, perms.stack.headers('viewer'));
    expect({ firedCount: done.firedCount, skippedCount: done.skippedCount }).toEqual({ firedCount: 3, skippedCount: 0 });
    const ids = Array.from({ length: 3 }, (_, i) => `perm-cron-${new Date(scheduleStartMs + i * 1_000).toISOString().slice(0, 19).replace(/[-:]/g, '')}Z`);
    for (const workflowId of ids) {
      const settled = await view(workflowId, (body) => body.status !== 'active' || body.pendingApproval !== null);
      expect({ workflowId, state: settled.status === 'active' ? settled.pendingApproval?.gate : settled.stateValue }).toEqual({ workflowId, state: expect.stringMatching(/^(closed|fix-approval)$/) });
    }
  });

  let triageIds: string[] = [];
  /** A ham email the header rules route to the drafter. */
  const drafted: CorpusEmail[] = [];
  it('runs triage with ReAct agent runs (drafter and spam-quarantine as react-loop actors) started by the producer user', async () => {
    const test = corpusSplit(loadSpamAssassinCorpus(), 'test');
    const router = new HeaderRuleRouter();
    for (const email of test.filter((e) => e.label === 'ham')) {
      if ((await router.route(await parseCorpusEmail(email))).route === 'draft_reply') drafted.push(email);
      if (drafted.length === 1) break;
    }
    const emails = [...drafted, test.find((e) => e.label === 'spam')!];
    const producer = await perms.as('producer');
    triageIds = emails.map((_, index) => `triage-permflow-${index}`);
    perms.stack.tracker.track(triageIds);
    for (const [index, email] of emails.entries()) {
      const envelope = emailReceivedEnvelope(triageIds[index], await parseCorpusEmail(email), { source: 'e2e-producer', occurredAt: new Date().toISOString() });
      await publishEnvelope(producer.jetstream(), workflowEventTypeSubject(triageIds[index], EMAIL_RECEIVED), envelope, { msgId: envelope.id });
    }
    const drafting = await view(triageIds[0], (body) => body.stateValue === 'awaitingApproval');
    expect(drafting.stateValue).toBe('awaitingApproval');
    const quarantined = await closed(triageIds[1]);
    expect(quarantined.stateValue).toBe('quarantined');
    // Each run is a react-loop actor of its own that finished (the change feed names its parent).
    expect(await perms.stack.tracker.waitFor(() => [...perms.stack.tracker.agentRuns.values()].filter((run) => triageIds.includes(run.parentWorkflowId)).length >= 2, 30_000)).toBe(true);
    const runs = [...perms.stack.tracker.agentRuns.values()].filter((run) => triageIds.includes(run.parentWorkflowId));
    expect(new Set(runs.map((run) => run.agent))).toEqual(new Set(['drafter', 'spam-quarantine']));
    for (const run of runs) {
      const body = await view(run.runId, (b) => b.status !== 'active');
      expect({ runId: run.runId, workflowType: body.workflowType, stateValue: body.stateValue }).toEqual({ runId: run.runId, workflowType: 'react-loop', stateValue: 'done' });
    }
    expect((await post(`/workflows/${triageIds[0]}/approvals`, { decision: 'approved' }, 'approver')).status).toBe(202);
    expect((await view(triageIds[0], (body) => body.stateValue === 'sent')).stateValue).toBe('sent');
  });

  it('fans a task out to two specialists through the supervisor, which joins their answers', async () => {
    // No shipped workflow asks for a fan-out yet: an operator's task on the supervisor's queue stands in
    // for one (the supervisor starts the supervisor-routing actor on its own user; the answer goes to
    // the parent, here a finished triage workflow, which journals and ignores it).
    const parent = triageIds[0];
    const effectId = `${parent}:perm-fan-out`;
    const email = await parseCorpusEmail(corpusSplit(loadSpamAssassinCorpus(), 'test').find((e) => e.label === 'ham')!);
    await perms.stack.connection.jetstream().publish(
      agentTaskSubject('supervisor'),
      encodeEnvelope({
        id: effectId,
        type: AGENT_TASK_REQUESTED,
        workflowId: parent,
        correlationId: parent,
        causationId: null,
        occurredAt: new Date().toISOString(),
        source: 'e2e-test',
        payload: { effectId, agent: 'supervisor', task: FAN_OUT_TASK, input: { input: { email }, routes: ['summariser', 'classifier'], joinTimeoutMs: 20_000 } },
      }),
      { msgID: effectId },
    );
    const supervision = await view(supervisionId(effectId), (body) => body.status !== 'active', 40_000);
    expect({ workflowType: supervision.workflowType, stateValue: supervision.stateValue }).toEqual({ workflowType: 'supervisor-routing', stateValue: 'done' });
    const answers = supervision.journal.filter((entry) => entry.rejection === null).map((entry) => entry.eventType);
    expect(answers).toEqual(expect.arrayContaining(['email.summarised', 'email.classified']));
    // The orchestrator delivered the joined result to the parent on its typed subject; email-triage takes
    // no supervision.completed, so the orchestrator dead-letters it there (with the join in it).
    const letter = await firstDeadLetterOf(workflowEventTypeSubject(parent, 'supervision.completed'));
    expect(letter.subject).toBe('troupe.dlq.orchestrator');
    const joined = JSON.parse(Buffer.from(letter.deadLetter.dataBase64, 'base64').toString('utf8')) as { payload: { answered: Array<{ specialist: string }>; timedOut: boolean } };
    expect(joined.payload.timedOut).toBe(false);
    expect(joined.payload.answered.map((answer) => answer.specialist).sort()).toEqual(['classifier', 'summariser']);
  });

  it('replays dead letters over HTTP: the gateway republishes them on their typed subjects, and their consumers dead-letter them again', async () => {
    const js = perms.stack.connection.jetstream();
    const eventSubject = workflowEventTypeSubject('perm-dlq-garbage', CLAIM_SUBMITTED);
    await js.publish(eventSubject, new TextEncoder().encode('not json'));
    await js.publish(
      agentTaskSubject('classifier'),
      encodeEnvelope({
        id: 'perm-dlq-task',
        type: AGENT_TASK_REQUESTED,
        workflowId: 'perm-dlq-task',
        correlationId: 'perm-dlq-task',
        causationId: null,
        occurredAt: new Date().toISOString(),
        source: 'e2e-test',
        payload: { effectId: 'perm-dlq-task:classify', agent: 'classifier', task: 'email.classify', input: { nothing: true } },
      }),
    );
    for (const [subject, storedOn] of [
      [eventSubject, 'troupe.dlq.orchestrator'],
      [agentTaskSubject('classifier'), 'troupe.dlq.agent-classifier'],
    ]) {
      const letter = await firstDeadLetterOf(subject);
      expect(letter.subject).toBe(storedOn);
      const replay = await post(`/dead-letters/${letter.sequence}/replay`, {});
      expect(replay.status, await replay.clone().text()).toBe(200);
      expect(await replay.json()).toMatchObject({ sequence: letter.sequence, republishedTo: subject, duplicate: false });
      // The replayed message reached its consumer again, which dead-lettered it once more (a new sequence).
      const again = await (async () => {
        const deadline = Date.now() + 20_000;
        for (;;) {
          const letters = await deadLettersOf(subject);
          if (letters.some((item) => item.sequence > letter.sequence) || Date.now() > deadline) return letters;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      })();
      expect(again.map((item) => item.sequence).filter((sequence) => sequence > letter.sequence)).toHaveLength(1);
    }
  });

  it('forks an incident over HTTP from its fix-approval gate with the other decision, and the fork runs to closed', async () => {
    // From a gate whose deadline is far ahead: a fork keeps the source's timers with their due times.
    const source = await closed('incident-perm-approve');
    const decided = source.journal.find((entry) => entry.eventType === APPROVAL_DECIDED)!;
    const { gateId } = (decided.event as { payload: { gateId: string } }).payload;
    const response = await post(
      '/workflows/incident-perm-approve/fork',
      {
        step: decided.seq - 1,
        event: { type: APPROVAL_DECIDED, payload: { gateId, decision: 'rejected', approver: { id: 'what-if', roles: ['approver'] }, comment: 'what if', editedText: null } },
        workflowId: 'incident-perm-approve-fork',
      },
      'admin',
    );
    expect(response.status, await response.clone().text()).toBe(202);
    const fork = await closed('incident-perm-approve-fork');
    expect({ stateValue: fork.stateValue, outcome: fork.context?.outcome }).toEqual({ stateValue: 'closed', outcome: 'escalated' });
    expect((await closed('incident-perm-approve')).context?.outcome).toBe('fixed');
  });

  it('runs a ReAct agent run that calls a tool, with the agents app on the scripted model', async () => {
    // The agents restart on the scripted test double (the other flows are done: their agents would ask
    // it too); the drafter's run asks for thread_lookup, then answers.
    const dir = mkdtempSync(path.join(tmpdir(), 'troupe-perm-model-'));
    const scriptFile = path.join(dir, 'model-script.json');
    writeFileSync(
      scriptFile,
      JSON.stringify({
        answers: {},
        answersBySystemPrompt: [
          {
            contains: 'You draft email replies',
            answers: [
              { toolCalls: [{ toolName: 'thread_lookup', input: { subject: 'an earlier message' } }], inputTokens: 150, outputTokens: 20 },
              { text: '{"body":"Thanks, I will get back to you. [confirm date]","reasoning":"a holding reply"}', inputTokens: 200, outputTokens: 60 },
            ],
          },
        ],
      }),
    );
    await perms.stack.apps.get('agents')?.stop();
    const agents = startApp('agents', {
      logFile: path.join(perms.stack.logDir, 'agents-model.log'),
      env: {
        NATS_URL: perms.stack.nats.url,
        NATS_USER: 'agents',
        NATS_PASSWORD: perms.passwords.agents,
        TROUPE_PROVISION_STREAMS: 'false',
        TROUPE_MODEL_PROVIDER: 'scripted-test-double',
        TROUPE_MODEL_SCRIPT_FILE: scriptFile,
      },
    });
    perms.stack.apps.set('agents', agents);
    await agents.ready;
    const workflowId = 'triage-permflow-model';
    const { payload } = emailReceivedEnvelope(workflowId, await parseCorpusEmail(drafted[0]), { source: 'e2e-test', occurredAt: new Date().toISOString() });
    perms.stack.tracker.track([workflowId]);
    await start('email-triage', workflowId, payload);
    const waiting = await view(workflowId, (body) => body.stateValue === 'awaitingApproval');
    expect(waiting.stateValue).toBe('awaitingApproval');
    expect(await perms.stack.tracker.waitFor(() => [...perms.stack.tracker.agentRuns.values()].some((run) => run.parentWorkflowId === workflowId), 30_000)).toBe(true);
    const run = [...perms.stack.tracker.agentRuns.values()].find((candidate) => candidate.parentWorkflowId === workflowId)!;
    const body = await view(run.runId, (b) => b.status !== 'active');
    expect(body.stateValue).toBe('done');
    expect(body.journal.filter((entry) => entry.rejection === null).map((entry) => entry.eventType)).toEqual(['agent.run_requested', 'model.responded', 'tool.responded', 'model.responded']);
    expect(run.servedBy.every((servedBy) => /scripted/.test(servedBy))).toBe(true);
  });

  it('no app met a permissions violation: neither nats-server nor any app log reports one', async () => {
    // The server does log violations (here the test's own producer's, which is not an app's).
    const producer = await perms.as('producer');
    const forbidden = workflowEventTypeSubject('perm-forbidden', APPROVAL_DECIDED);
    const refused = await producer.jetstream({ timeout: 2_000 }).publish(forbidden, new TextEncoder().encode('{}')).then(() => null, (error: Error) => error);
    expect(refused?.message).toMatch(/permissions violation for publish/i);
    // Its log line comes a little after the refusal; once it is there, so is any earlier one.
    const logged = new RegExp(`Publish Violation.*User "producer".*${forbidden.replace(/\./g, '\\.')}`);
    expect(await pollUntil(() => perms.stack.nats.log(), (log) => logged.test(log), 5_000)).toMatch(logged);
    expect(perms.appViolations(), `nats-server log:\n${perms.stack.nats.log()}`).toEqual([]);
    expect(perms.appLogsWithViolations(), `app logs in ${perms.stack.logDir}`).toEqual([]);
  });
});
