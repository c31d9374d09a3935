import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KvWorkflowUsage } from '@troupe/agent-kit';
import { listKvKeys, publishEnvelope } from '@troupe/bus';
import { generateSyntheticClaims, type ClaimScenario, type LabelledClaim } from '@troupe/claims-corpus';
import { CLAIM_BUCKETS, claimSubmittedEnvelope, workflowEventSubject, type JournalEntry } from '@troupe/contracts';
import { createPersistence } from '@troupe/persistence';
import { pollJson, readJournalAtVersion, startTroupeStack, type TroupeStack } from '@troupe/testing';

/** The review gate waits this long before it escalates to a manager (48 h in production). */
const REVIEW_TIMEOUT_MS = 15_000;

describe('claim-processing through the apps on real NATS', () => {
  let stack: TroupeStack;
  const savedEnv = { ...process.env };
  const claims = generateSyntheticClaims({ seed: 8, count: 7 });
  const byScenario = (scenario: ClaimScenario): LabelledClaim => claims.find(({ expected }) => expected.scenario === scenario)!;

  beforeAll(async () => {
    // The apps inherit this environment: a review deadline of seconds, a long escalation deadline.
    process.env.TROUPE_CLAIM_REVIEW_TIMEOUT_MS = String(REVIEW_TIMEOUT_MS);
    process.env.TROUPE_CLAIM_ESCALATION_TIMEOUT_MS = '600000';
    stack = await startTroupeStack();
  });

  afterAll(async () => {
    await stack?.stop();
    process.env = savedEnv;
  });

  const url = (path: string) => `${stack.gatewayUrl}${path}`;
  const tracked = (workflowId: string) => stack.tracker.workflows.get(workflowId)!;
  const submit = async (workflowId: string, { claim }: LabelledClaim) => {
    stack.tracker.track([workflowId]);
    const envelope = claimSubmittedEnvelope(workflowId, claim, { source: 'e2e', occurredAt: new Date().toISOString() });
    await publishEnvelope(stack.connection.jetstream(), workflowEventSubject(workflowId), envelope, { msgId: envelope.id });
  };
  const closed = (workflowId: string) => stack.tracker.waitFor(() => tracked(workflowId).last?.status === 'done', 60_000);

  it('auto-approves a routine claim, and the senior reviewer agent decides medium ones, each notified and audited once', async () => {
    const cases: Array<[string, ClaimScenario, string]> = [
      ['claim-e2e-routine', 'routine', 'approved'],
      ['claim-e2e-covered', 'covered-medium', 'approved'],
      ['claim-e2e-excluded', 'excluded-medium', 'rejected'],
    ];
    for (const [workflowId, scenario] of cases) await submit(workflowId, byScenario(scenario));
    for (const [workflowId, scenario, outcome] of cases) {
      expect(await closed(workflowId), workflowId).toBe(true);
      expect(tracked(workflowId).last).toMatchObject({
        stateValue: 'closed',
        tags: { outcome, route: scenario === 'routine' ? 'auto' : 'senior-agent', severity: byScenario(scenario).expected.severity },
      });
    }
    const persistence = await createPersistence({ nats: stack.connection });
    const journal: JournalEntry[] = await readJournalAtVersion(persistence, 'claim-e2e-excluded');
    await persistence.close();
    expect(journal.map((entry) => entry.stateValue)).toEqual(['extracting', 'classifying', 'seniorReview', 'generatingLetter', 'notifying', 'auditing', 'closed']);
    // The gateway draws the chart from the catalog and replays the journal to the stored snapshot.
    expect((await fetch(url('/statecharts/claim-processing'), { headers: stack.headers('viewer') })).status).toBe(200);
    const replayed = (await (await fetch(url('/workflows/claim-e2e-excluded/replay'), { headers: stack.headers('viewer') })).json()) as Record<string, unknown>;
    expect(replayed).toMatchObject({ step: 7, stateValue: 'closed', matchesSnapshot: true, matchesStoredSnapshot: true });
    const notifications = CLAIM_BUCKETS.notifications;
    const audits = CLAIM_BUCKETS.auditRecords;
    const keysOf = async (bucket: string) => (await listKvKeys(stack.connection.jetstream(), bucket)).map((key) => Buffer.from(key, 'base64url').toString('utf8'));
    for (const [workflowId] of cases) {
      expect((await keysOf(notifications)).filter((key) => key.startsWith(`${workflowId}:`))).toHaveLength(1);
      expect((await keysOf(audits)).filter((key) => key.startsWith(`${workflowId}:`))).toHaveLength(1);
    }
  });

  it('holds a high-severity claim at the human gate until an approver approves it over HTTP', async () => {
    const workflowId = 'claim-e2e-injury';
    await submit(workflowId, byScenario('injury'));
    expect(await stack.tracker.waitFor(() => tracked(workflowId).last?.pendingApproval?.gate === 'claim-review', 60_000)).toBe(true);
    const pending = tracked(workflowId).last!.pendingApproval!;
    expect(pending).toMatchObject({ gateId: `${workflowId}:claim-review`, allowedRoles: ['approver', 'admin'] });

    const byViewer = await fetch(url(`/workflows/${workflowId}/approvals`), { method: 'POST', headers: stack.headers('viewer'), body: JSON.stringify({ decision: 'approved' }) });
    expect(byViewer.status).toBe(403);
    const response = await fetch(url(`/workflows/${workflowId}/approvals`), {
      method: 'POST',
      headers: stack.headers('approver'),
      body: JSON.stringify({ gateId: pending.gateId, decision: 'approved', comment: 'Medical report attached.' }),
    });
    expect(response.status).toBe(202);
    expect(await closed(workflowId)).toBe(true);
    expect(tracked(workflowId).last).toMatchObject({ stateValue: 'closed', tags: { outcome: 'approved', route: 'human', severity: 'high' } });
  });

  it('starts a claim over HTTP, escalates it to a manager when the review deadline passes, and takes the manager\u2019s edited amount', async () => {
    const workflowId = 'claim-e2e-over-threshold';
    stack.tracker.track([workflowId]);
    const started = await fetch(url('/workflows'), {
      method: 'POST',
      headers: stack.headers('operator'),
      body: JSON.stringify({ workflowType: 'claim-processing', workflowId, payload: { claim: byScenario('over-threshold').claim } }),
    });
    expect(started.status).toBe(202);
    expect(await stack.tracker.waitFor(() => tracked(workflowId).last?.pendingApproval?.gate === 'claim-review', 60_000)).toBe(true);
    expect(tracked(workflowId).last?.tags).toMatchObject({ severity: 'medium' });
    expect(await stack.tracker.waitFor(() => tracked(workflowId).last?.stateValue === 'reviewEscalated', REVIEW_TIMEOUT_MS + 30_000)).toBe(true);
    const escalated = tracked(workflowId).last!.pendingApproval!;
    expect(escalated).toMatchObject({ gate: 'claim-review-escalated', allowedRoles: ['admin'] });

    const byApprover = await fetch(url(`/workflows/${workflowId}/approvals`), {
      method: 'POST',
      headers: stack.headers('approver'),
      body: JSON.stringify({ gateId: escalated.gateId, decision: 'approved' }),
    });
    // The gateway publishes any approver's decision; the runtime refuses it at a gate for admins only, in the journal.
    expect(byApprover.status).toBe(202);
    const { eventId } = (await byApprover.json()) as { eventId: string };
    const refused = await pollJson<{ journal: JournalEntry[] }>(
      url(`/workflows/${workflowId}`),
      (body) => body.journal.some((entry) => entry.eventId === eventId),
      30_000,
      stack.headers('viewer'),
    );
    expect(refused.journal.find((entry) => entry.eventId === eventId)?.rejection).toMatch(/may not decide gate claim-review-escalated/);
    const byManager = await fetch(url(`/workflows/${workflowId}/approvals`), {
      method: 'POST',
      headers: stack.headers('admin'),
      body: JSON.stringify({ gateId: escalated.gateId, decision: 'edited', editedText: '9000' }),
    });
    expect(byManager.status).toBe(202);
    expect(await closed(workflowId)).toBe(true);
    expect(tracked(workflowId).last).toMatchObject({ stateValue: 'closed', tags: { outcome: 'approved', route: 'manager' } });
    const detail = (await (await fetch(url(`/workflows/${workflowId}`), { headers: stack.headers('viewer') })).json()) as { context: { decision: { approvedAmountUsd: number; decidedBy: string } } };
    expect(detail.context.decision).toMatchObject({ approvedAmountUsd: 9_000, decidedBy: 'e2e-admin' });
  });
});

describe('the declared (YAML) claim-processing workflow hosted by the orchestrator', () => {
  let stack: TroupeStack;
  const claims = generateSyntheticClaims({ seed: 8, count: 7 });

  beforeAll(async () => {
    stack = await startTroupeStack({ env: { TROUPE_CLAIM_DEFINITION: 'declared' } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('runs an auto-approved claim and a human-gated one an approver rejects over HTTP', async () => {
    const cases = [
      { workflowId: 'claim-yaml-routine', labelled: claims.find(({ expected }) => expected.scenario === 'routine')! },
      { workflowId: 'claim-yaml-grave', labelled: claims.find(({ expected }) => expected.scenario === 'grave-loss')! },
    ];
    stack.tracker.track(cases.map(({ workflowId }) => workflowId));
    for (const { workflowId, labelled } of cases) {
      const envelope = claimSubmittedEnvelope(workflowId, labelled.claim, { source: 'e2e', occurredAt: new Date().toISOString() });
      await publishEnvelope(stack.connection.jetstream(), workflowEventSubject(workflowId), envelope, { msgId: envelope.id });
    }
    const tracked = (workflowId: string) => stack.tracker.workflows.get(workflowId)!;
    expect(await stack.tracker.waitFor(() => tracked('claim-yaml-grave').last?.pendingApproval?.gate === 'claim-review', 60_000)).toBe(true);
    const response = await fetch(`${stack.gatewayUrl}/workflows/claim-yaml-grave/approvals`, { method: 'POST', headers: stack.headers('approver'), body: JSON.stringify({ decision: 'rejected', comment: 'Not covered.' }) });
    expect(response.status).toBe(202);
    expect(await stack.tracker.waitFor(() => cases.every(({ workflowId }) => tracked(workflowId).last?.status === 'done'), 60_000)).toBe(true);
    expect(tracked('claim-yaml-routine').last?.tags).toMatchObject({ severity: 'low', route: 'auto', outcome: 'approved' });
    expect(tracked('claim-yaml-grave').last?.tags).toMatchObject({ severity: 'high', route: 'human', outcome: 'rejected' });
    expect(readFileSync(path.join(stack.logDir, 'orchestrator.log'), 'utf8')).toMatch(/claim-processing: hosting the declared form \(.*claim-processing\.workflow\.yaml\)/);
  });
});

const answer = (value: unknown, inputTokens: number) => [{ text: JSON.stringify(value), inputTokens, outputTokens: 10 }];
// Answers per agent, told apart by its system prompt (the model chain asks in plain text); the model, not
// the form, decides here (the form says otherwise).
const SCRIPT = {
  answers: {},
  answersBySystemPrompt: [
    {
      contains: 'You read insurance claim forms',
      answers: answer({ policyNumber: 'POL-MODEL', claimType: 'property', incidentDate: '2026-04-05', amountUsd: 4_000, injuries: false, policeReport: false, description: 'Burst pipe.' }, 300),
    },
    { contains: 'You triage insurance claims', answers: answer({ severity: 'medium', reason: 'a larger covered loss' }, 200) },
    { contains: 'You are a senior claims adjuster', answers: answer({ outcome: 'approved', approvedAmountUsd: 5_000, reason: 'covered' }, 250) },
    { contains: 'You write the response letter', answers: answer({ subject: 'Your claim', body: 'Dear claimant, we will pay.' }, 150) },
  ],
};

/** A temporary file holding `text`, named `name`. */
function temporaryFile(name: string, text: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'troupe-claims-model-')), name);
  writeFileSync(file, text);
  return file;
}

/** Submits `claim` as workflow `workflowId`, waits until it is done (60 s) and returns the gateway's view of it. */
async function runToDone<T>(stack: TroupeStack, workflowId: string, claim: LabelledClaim['claim']): Promise<T> {
  stack.tracker.track([workflowId]);
  const envelope = claimSubmittedEnvelope(workflowId, claim, { source: 'e2e', occurredAt: new Date().toISOString() });
  await publishEnvelope(stack.connection.jetstream(), workflowEventSubject(workflowId), envelope, { msgId: envelope.id });
  expect(await stack.tracker.waitFor(() => stack.tracker.workflows.get(workflowId)?.last?.status === 'done', 60_000)).toBe(true);
  return (await (await fetch(`${stack.gatewayUrl}/workflows/${workflowId}`, { headers: stack.headers('viewer') })).json()) as T;
}

describe('claim agents through a configured model (the scripted test double)', () => {
  let stack: TroupeStack;
  const claims = generateSyntheticClaims({ seed: 8, count: 7 });

  beforeAll(async () => {
    stack = await startTroupeStack({ env: { TROUPE_MODEL_PROVIDER: 'scripted-test-double', TROUPE_MODEL_SCRIPT_FILE: temporaryFile('model-script.json', JSON.stringify(SCRIPT)) } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('extracts, classifies, reviews and writes through the model, caps the payment at the claimed amount and tags the tokens', async () => {
    const workflowId = 'claim-model-medium';
    const detail = await runToDone<{ context: { details: { policyNumber: string }; extractor: string; decision: { approvedAmountUsd: number }; letter: { writer: string } } }>(
      stack,
      workflowId,
      claims[0].claim,
    );
    expect(stack.tracker.workflows.get(workflowId)?.last).toMatchObject({
      stateValue: 'closed',
      tags: { severity: 'medium', route: 'senior-agent', outcome: 'approved', modelCalls: '4', inputTokens: '900', outputTokens: '40' },
    });
    expect(detail.context.details.policyNumber).toBe('POL-MODEL');
    expect(detail.context.extractor).toBe('chain/scripted/scripted-model');
    expect(detail.context.decision.approvedAmountUsd).toBe(4_000);
    expect(detail.context.letter.writer).toBe('chain/scripted/scripted-model');
    // The four model calls count in the workflow's budget, one entry per task.
    const spent = await (await KvWorkflowUsage.open(stack.connection.jetstream())).spent(workflowId);
    expect(spent.tokens).toBe(900 + 40);
    expect(spent).toMatchObject({ modelCalls: 4 });
    expect(spent.runIds).toHaveLength(4);
  });
});

describe('the declared claim workflow\u2019s budget, enforced by the agents (the scripted test double)', () => {
  let stack: TroupeStack;
  const claims = generateSyntheticClaims({ seed: 8, count: 7 });

  beforeAll(async () => {
    // The shipped YAML with a budget of two model calls per claim.
    const yaml = readFileSync(path.join(__dirname, '../../statecharts/claim-processing/claim-processing.workflow.yaml'), 'utf8').replace('maxModelCalls: 8', 'maxModelCalls: 2');
    stack = await startTroupeStack({
      env: {
        TROUPE_MODEL_PROVIDER: 'scripted-test-double',
        TROUPE_MODEL_SCRIPT_FILE: temporaryFile('model-script.json', JSON.stringify(SCRIPT)),
        TROUPE_CLAIM_DEFINITION: 'declared',
        TROUPE_CLAIM_DEFINITION_FILE: temporaryFile('claim.workflow.yaml', yaml),
      },
    });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('lets the model extract and classify, then the offline stand-ins review and write the letter (budget_exhausted)', async () => {
    const workflowId = 'claim-declared-budget';
    const detail = await runToDone<{ context: { extractor: string; seniorReview: { reviewer: string }; letter: { writer: string } } }>(stack, workflowId, claims[0].claim);
    expect(stack.tracker.workflows.get(workflowId)?.last).toMatchObject({
      stateValue: 'closed',
      tags: { severity: 'medium', route: 'senior-agent', outcome: 'approved', modelCalls: '2', inputTokens: '500', outputTokens: '20' },
    });
    expect(detail.context.extractor).toBe('chain/scripted/scripted-model');
    expect(detail.context.seniorReview.reviewer).toBe('chain/fallback/offline-rules/claims-senior-reviewer (workflow budget exhausted)');
    expect(detail.context.letter.writer).toBe('chain/fallback/offline-template/claims-letter-writer (workflow budget exhausted)');
    const spent = await (await KvWorkflowUsage.open(stack.connection.jetstream())).spent(workflowId);
    expect(spent).toMatchObject({ tokens: 500 + 20, modelCalls: 2 });
    expect(readFileSync(path.join(stack.logDir, 'agents.log'), 'utf8')).toContain(`workflow ${workflowId} has made 2 of its 2 model calls`);
  });
});
