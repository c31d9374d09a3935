import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorRuntime, migrateWorkflows, replayJournal } from '@troupe/actor-runtime';
import {
  APPROVAL_DECIDED,
  EFFECT_FAILED,
  EMAIL_CLASSIFIED,
  EMAIL_ROUTED,
  EMAIL_TRIAGE,
  REPLY_SENT,
  REPLY_SEND_REQUESTED,
  emailReceivedEnvelope,
  type Email,
  type Envelope,
} from '@troupe/contracts';
import { KvSnapshotStore, StreamJournal, type OutboxMessage } from '@troupe/persistence';
import { EMAIL_TRIAGE_V3_TO_V4, triageGateId } from '@troupe/statecharts';
import { deliverRetryingConflicts as deliver, startNatsServer, type NatsServerHandle } from '@troupe/testing';
import { emailTriageWorkflows } from './email-triage.workflow';

// A machine bump on real NATS: an email-triage@3 instance survives the deploy of v4, new emails start on
// v4, the declared 3 -> 4 migration moves the running instance, and its journal replays across the move.

let server: NatsServerHandle;
let nats: NatsConnection;

beforeAll(async () => {
  server = await startNatsServer();
  nats = await connect({ servers: server.url });
});

afterAll(async () => {
  await nats?.close();
  await server?.stop();
});

const email: Email = {
  messageId: '<lunch@example.org>',
  from: 'Ann <ann@example.org>',
  to: 'me@example.org',
  subject: 'Lunch on Friday?',
  date: null,
  text: 'Are you free on Friday?',
  headers: {},
  origin: {},
};
const now = () => new Date('2026-01-01T00:00:00.000Z');
let sequence = 0;

function event(workflowId: string, type: string, payload: unknown): Envelope {
  sequence += 1;
  return { id: `${workflowId}:e${sequence}`, type, workflowId, correlationId: workflowId, causationId: null, occurredAt: now().toISOString(), source: 'test', payload };
}


describe('email-triage v3 -> v4 on the embedded store (real NATS)', () => {
  it('keeps a v3 instance on v3 after the deploy, starts new ones on v4, migrates it, and it completes and replays on v4', async () => {
    const bucket = `snapshots_${randomUUID().replace(/-/g, '')}`;
    const store = await KvSnapshotStore.open({ nats, bucket });
    const journal = await StreamJournal.open({ nats });
    const run = randomUUID().slice(0, 8);
    const running = `triage-v3-${run}`;
    const fresh = `triage-v4-${run}`;
    const outbox: OutboxMessage[] = [];
    const publish = async (message: OutboxMessage) => {
      outbox.push(message);
    };
    /** The id of the last agent task the runtime sent to `agent` for `workflowId` (what an `effect.failed` names). */
    const lastTaskId = (workflowId: string, agent: string) =>
      outbox.filter((m) => m.envelope.workflowId === workflowId && (m.envelope.payload as { agent?: string }).agent === agent).at(-1)?.id;
    const definitions = emailTriageWorkflows({ confidenceThreshold: 0.8, approvalTimeoutMs: 60_000, escalationTimeoutMs: 120_000 });
    const [v3, v4] = definitions;
    expect([v3.machineVersion, v4.machineVersion]).toEqual(['3', '4']);

    // Before the deploy the orchestrator knows v3 only.
    const before = new ActorRuntime({ definitions: [v3], store, journal, publish, now });
    await deliver(before, emailReceivedEnvelope(running, email, { source: 'test', occurredAt: now().toISOString() }));
    await deliver(before, event(running, EMAIL_CLASSIFIED, { label: 'ham', confidence: 0.95, classifier: 'test' }));
    expect(await store.load(running)).toMatchObject({ machineVersion: '3', stateValue: 'routing' });

    // After the deploy it hosts both: the running instance continues on v3, a new one starts on v4.
    const after = new ActorRuntime({ definitions, store, journal, publish, now });
    expect(await deliver(after, event(running, EMAIL_ROUTED, { route: 'draft_reply', confidence: 0.9, reason: 'question', router: 'test' }))).toMatchObject({
      kind: 'applied',
      stateValue: 'drafting',
    });
    expect(await store.load(running)).toMatchObject({ machineVersion: '3', stateValue: 'drafting' });
    expect((await journal.read(running)).at(-1)).toMatchObject({ machineVersion: '3', stateValue: 'drafting' });
    await deliver(after, emailReceivedEnvelope(fresh, email, { source: 'test', occurredAt: now().toISOString() }));
    expect(await store.load(fresh)).toMatchObject({ machineVersion: '4', stateValue: 'classifying' });
    // On v4 a classifier that fails for good hands the email to a reviewer.
    await deliver(after, event(fresh, EFFECT_FAILED, { effectId: lastTaskId(fresh, 'classifier'), kind: 'agent.task', reason: 'model down past the fallback chain' }));
    expect(await store.load(fresh)).toMatchObject({
      machineVersion: '4',
      status: 'active',
      stateValue: 'humanReview',
      pendingApproval: { gate: 'classification-review', proposed: { label: null, confidence: null } },
    });

    // The declared migration moves the one running v3 instance (the v4 one is not its business).
    const options = { store, journal, migration: EMAIL_TRIAGE_V3_TO_V4, definitions, now };
    const dryRun = await migrateWorkflows({ ...options, dryRun: true });
    expect(dryRun).toMatchObject({ moved: [{ workflowId: running, stateValue: 'drafting' }], refused: [] });
    expect(await store.load(running)).toMatchObject({ machineVersion: '3' });
    const report = await migrateWorkflows(options);
    expect(report).toMatchObject({ migration: 'email-triage@3->4', dryRun: false, refused: [], conflicts: [], nextCursor: null });
    expect(report.moved).toEqual([{ workflowId: running, fromStateValue: 'drafting', stateValue: 'drafting', version: 4 }]);
    const moved = await store.load(running);
    expect(moved).toMatchObject({ machineVersion: '4', version: 4, stateValue: 'drafting', status: 'active' });
    expect((moved!.snapshot as { context: { agentFailures: unknown[] } }).context.agentFailures).toEqual([]);
    expect(await migrateWorkflows(options)).toMatchObject({ moved: [], refused: [], conflicts: [] });

    // It continues on v4: the drafter (asked on v3, before the move) fails for good, and a human writes the reply instead of the workflow failing.
    const draftTask = lastTaskId(running, 'drafter');
    expect(draftTask).toBe(`${running}:3:0`);
    await deliver(after, event(running, EFFECT_FAILED, { effectId: draftTask, kind: 'agent.task', reason: 'invalid output after 3 attempts' }));
    const waiting = await store.load(running);
    expect(waiting).toMatchObject({
      machineVersion: '4',
      stateValue: 'awaitingApproval',
      tags: { agentFailed: 'drafter', label: 'ham' },
      pendingApproval: { gateId: triageGateId(running, 'reply-approval', 1), gate: 'reply-approval', proposed: null },
    });
    const approver = { id: 'alice', roles: ['approver'] };
    const approve = event(running, APPROVAL_DECIDED, { gateId: triageGateId(running, 'reply-approval', 1), decision: 'approved', approver, comment: null, editedText: null });
    expect(await deliver(after, approve)).toMatchObject({ kind: 'rejected', reason: expect.stringContaining('no enabled transition') });
    await deliver(after, 
      event(running, APPROVAL_DECIDED, { gateId: triageGateId(running, 'reply-approval', 1), decision: 'edited', approver, comment: 'drafter down', editedText: 'Yes, see you at noon.' }),
    );
    const send = outbox.filter((m) => m.envelope.workflowId === running && m.envelope.type === REPLY_SEND_REQUESTED).at(-1);
    expect(send?.envelope.payload).toMatchObject({ to: email.from, subject: 'Re: Lunch on Friday?', body: 'Yes, see you at noon.' });
    expect(await deliver(after, event(running, REPLY_SENT, { idempotencyKey: send!.id, sentAt: now().toISOString(), firstDelivery: true }))).toMatchObject({
      kind: 'applied',
      stateValue: 'sent',
    });
    expect(await store.load(running)).toMatchObject({ machineVersion: '4', status: 'done', stateValue: 'sent' });

    // Its journal replays across the move: v3 steps on v3, the migration entry, v4 steps on v4, every digest checked.
    const entries = await journal.read(running);
    expect(entries.map((e) => [e.machineVersion, e.eventType])).toEqual([
      ['3', 'email.received'],
      ['3', EMAIL_CLASSIFIED],
      ['3', EMAIL_ROUTED],
      ['4', 'workflow.migrated'],
      ['4', EFFECT_FAILED],
      ['4', APPROVAL_DECIDED],
      ['4', APPROVAL_DECIDED],
      ['4', REPLY_SENT],
    ]);
    const replay = replayJournal(entries, definitions);
    expect(replay).toMatchObject({ workflowType: EMAIL_TRIAGE, machineVersion: '4', stateValue: 'sent', status: 'done', mismatches: [] });
    expect(replayJournal(entries, definitions, { step: 3 })).toMatchObject({ machineVersion: '3', stateValue: 'drafting', mismatches: [] });
    // Without v3 the journal cannot be replayed: why both versions stay registered.
    expect(() => replayJournal(entries, [v4])).toThrow(/email-triage@3/);
    expect(replayJournal(await journal.read(fresh), definitions).mismatches).toEqual([]);
    await (await nats.jetstream().views.kv(bucket)).destroy();
  });
});
