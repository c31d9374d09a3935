import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliverPolicy, headers as natsHeaders, type JetStreamClient } from 'nats';
import {
  AGENT_TASK_REQUESTED,
  APPROVAL_DECIDED,
  AgentTaskRequested,
  ApprovalDecided,
  DeadLetter,
  EMAIL_CLASSIFIED,
  EMAIL_RECEIVED,
  EmailClassified,
  EmailReceived,
  REPLY_SEND,
  REPLY_SEND_REQUESTED,
  REPLY_SENT,
  ReplySendRequested,
  ReplySent,
  STREAMS,
  TIMER_FIRED,
  TIMER_SCHEDULED,
  TRIAGE_AGENTS,
  TimerScheduled,
  agentTaskSubject,
  effectSubject,
  partitionOf,
  timerSubject,
  workflowEventSubject,
  workflowEventTypeSubject,
  type Email,
  type Envelope,
  type PendingApproval,
} from '@troupe/contracts';
import { corpusSplit, loadSpamAssassinCorpus, parseCorpusEmail, type CorpusEmail } from '@troupe/email-corpus';
import { createPersistence } from '@troupe/persistence';
import { publishEmails, startTroupeStack, type TroupeStack } from '@troupe/testing';
import type { z } from 'zod';
import { HeaderRuleRouter } from '../../apps/supervisor/src/routing/header-rule-router';

/** Malformed messages published (`TROUPE_BUS_FUZZ_COUNT`, default 10,000) and the generator's seed. */
const COUNT = Number(process.env.TROUPE_BUS_FUZZ_COUNT ?? 10_000);
const SEED = Number(process.env.TROUPE_BUS_FUZZ_SEED ?? 20261201);
/** Bound on each app's resident memory while it is fuzzed, bytes. */
const RSS_BOUND_BYTES = 1_024 * 1_024 * 1_024;
const FUZZ_HEADER = 'Troupe-Fuzz-Id';
const FINAL = ['quarantined', 'summarised', 'sent', 'rejected'];

/**
 * What becomes of a fuzz message, by category:
 * - `dead-letter`: refused by the consumer of its subject (not JSON, not an envelope, a payload failing
 *   its schema, an event on a subject not its own, an event for a workflow that does not exist): one dead
 *   letter on `troupe.dlq.<origin>` carrying the message's fuzz id header and a reason.
 * - `result-dead-letter`: a schema-valid task, effect or due timer for a workflow that does not exist:
 *   the agent (or timer service) does the work and publishes the result, which the orchestrator
 *   dead-letters (its subject names the fuzz workflow).
 * - `journaled`: schema-valid but wrong for the live workflow it targets (a decision by a viewer, a
 *   firing of a timer that is not active): the runtime journals it as a rejection and does not move.
 * - `refused-at-publish`: bigger than the server's max_payload; the client refuses to send it.
 */
type Outcome = 'dead-letter' | 'result-dead-letter' | 'journaled' | 'refused-at-publish';

interface FuzzMessage {
  n: number;
  category: string;
  outcome: Outcome;
  subject: string;
  /** Dead-letter origin expected (`troupe.dlq.<origin>`), for the dead-letter outcomes. */
  origin: string | null;
  /** The live workflow a journaled message targets. */
  workflowId: string | null;
  eventId: string | null;
  data: Uint8Array;
}

const encoder = new TextEncoder();
const json = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value));

/** A value `schema` refuses (drawn from `fc.anything()`, with a few shaped near-misses). */
const failing = (schema: z.ZodType, nearMisses: unknown[]) =>
  fc.oneof(fc.anything(), fc.constantFrom(...nearMisses), fc.constant(null)).filter((value) => !schema.safeParse(value).success);

const envelope = (overrides: Partial<Envelope> & { type: string; workflowId: string; payload: unknown }, n: number): Envelope => ({
  id: `fuzz-${n}`,
  correlationId: overrides.workflowId,
  causationId: null,
  occurredAt: new Date().toISOString(),
  source: 'bus-fuzz',
  ...overrides,
});

/** Subjects Troupe consumes, with the dead-letter origin of each consumer. */
function consumedSubjects(workflowIds: string[]) {
  const agents = Object.values(TRIAGE_AGENTS).map((agent) => ({ subject: agentTaskSubject(agent.agent), origin: `agent-${agent.agent}` }));
  return fc.oneof(
    fc.constantFrom(...workflowIds).map((id) => ({ subject: workflowEventSubject(id), origin: 'orchestrator' })),
    fc.constantFrom(...workflowIds).map((id) => ({ subject: workflowEventTypeSubject(id, APPROVAL_DECIDED), origin: 'orchestrator' })),
    fc.constantFrom(...agents),
    fc.constant({ subject: effectSubject(REPLY_SEND), origin: 'effect-reply-send' }),
    fc.nat({ max: 15 }).map((p) => ({ subject: timerSubject(p), origin: 'orchestrator-timers' })),
  );
}

function fuzzMessages(count: number, legit: string[], email: Email): FuzzMessage[] {
  const fuzzIds = Array.from({ length: 64 }, (_, i) => `fuzz-wf-${i}`);
  const targets = [...legit, ...fuzzIds];
  const garbage = fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.string({ maxLength: 300 }).map((s) => encoder.encode(s)),
    fc.jsonValue().filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)).map(json),
    fc.constant(encoder.encode('')),
    fc.constant(new Uint8Array([0xff, 0xfe, 0x00, 0x7b])),
    // Truncated: a valid envelope cut short.
    fc.nat({ max: 200 }).map((cut) => json(envelope({ type: EMAIL_RECEIVED, workflowId: 'fuzz-wf-0', payload: { email } }, 0)).slice(0, cut)),
    // Oversized but under max_payload (1 MiB): 200–900 KB of text.
    fc.integer({ min: 200_000, max: 900_000 }).map((size) => encoder.encode(`{"id":"${'x'.repeat(size)}"`)),
  );
  // Envelopes with one field of the wrong type or shape.
  const badEnvelope = fc
    .record({
      field: fc.constantFrom('id', 'type', 'workflowId', 'correlationId', 'causationId', 'occurredAt', 'source', 'payload', 'extra'),
      value: fc.oneof(fc.anything(), fc.constantFrom('', 'Email Received', 'a.b', 'x'.repeat(300), '2026-13-45', 42, -1, true, [], {})),
    })
    .map(({ field, value }) => {
      const base: Record<string, unknown> = { ...envelope({ type: EMAIL_RECEIVED, workflowId: 'fuzz-wf-1', payload: 'not an email' }, 0) };
      if (field === 'extra') {
        delete base.type;
        return base;
      }
      base[field] = value;
      return base;
    });
  const kinds = fc.oneof(
    { weight: 25, arbitrary: fc.record({ at: consumedSubjects(targets), data: garbage }).map((m) => ({ category: 'garbage bytes', outcome: 'dead-letter' as const, ...m, workflowId: null, eventId: null })) },
    {
      weight: 25,
      // Whether or not the envelope parses, its payload ('not an email') fails at every consumer.
      arbitrary: fc
        .record({ at: consumedSubjects(targets), body: badEnvelope })
        .map(({ at, body }) => ({ category: 'wrongly typed envelope', outcome: 'dead-letter' as const, at, data: json(body), workflowId: null, eventId: null })),
    },
    {
      weight: 10,
      arbitrary: fc.record({ id: fc.constantFrom(...targets), payload: failing(ApprovalDecided, [{ gateId: 'g', decision: 'maybe', approver: { id: 'x', roles: ['approver'] } }, { decision: 'approved' }]) }).map(({ id, payload }) => ({
        category: 'approval.decided with a bad payload',
        outcome: 'dead-letter' as const,
        at: { subject: workflowEventTypeSubject(id, APPROVAL_DECIDED), origin: 'orchestrator' },
        envelope: { type: APPROVAL_DECIDED, workflowId: id, payload },
      })),
    },
    {
      weight: 5,
      arbitrary: fc.record({ id: fc.constantFrom(...fuzzIds), payload: failing(EmailReceived, [{ email: 42 }, { email: { ...email, text: 7 } }]) }).map(({ id, payload }) => ({
        category: 'email.received with a bad payload',
        outcome: 'dead-letter' as const,
        at: { subject: workflowEventTypeSubject(id, EMAIL_RECEIVED), origin: 'orchestrator' },
        envelope: { type: EMAIL_RECEIVED, workflowId: id, payload },
      })),
    },
    {
      weight: 5,
      arbitrary: fc
        .record({ id: fc.constantFrom(...targets), type: fc.constantFrom(EMAIL_CLASSIFIED, REPLY_SENT, TIMER_FIRED), payload: fc.anything() })
        .filter(({ payload }) => !EmailClassified.safeParse(payload).success && !ReplySent.safeParse(payload).success)
        .map(({ id, type, payload }) => ({ category: `${type} with a bad payload`, outcome: 'dead-letter' as const, at: { subject: workflowEventTypeSubject(id, type), origin: 'orchestrator' }, envelope: { type, workflowId: id, payload } })),
    },
    {
      weight: 8,
      arbitrary: fc
        .record({ agent: fc.constantFrom(...Object.values(TRIAGE_AGENTS)), payload: failing(AgentTaskRequested, [{ effectId: '', agent: 'x', task: 'y' }, { agent: 'classifier' }]) })
        .map(({ agent, payload }) => ({
          category: 'agent task with a bad payload',
          outcome: 'dead-letter' as const,
          at: { subject: agentTaskSubject(agent.agent), origin: `agent-${agent.agent}` },
          envelope: { type: AGENT_TASK_REQUESTED, workflowId: 'fuzz-wf-2', payload },
        })),
    },
    {
      weight: 4,
      arbitrary: fc.record({ payload: failing(ReplySendRequested, [{ effectId: 'e', to: 'a', subject: 's', body: 7, inReplyTo: null }]) }).map(({ payload }) => ({
        category: 'reply-send with a bad payload',
        outcome: 'dead-letter' as const,
        at: { subject: effectSubject(REPLY_SEND), origin: 'effect-reply-send' },
        envelope: { type: REPLY_SEND_REQUESTED, workflowId: 'fuzz-wf-3', payload },
      })),
    },
    {
      weight: 4,
      arbitrary: fc.record({ p: fc.nat({ max: 15 }), payload: failing(TimerScheduled, [{ timerId: 't', workflowId: 'a.b', sendId: 's', dueAt: 'now', event: { type: 'x' } }]) }).map(({ p, payload }) => ({
        category: 'timer with a bad payload',
        outcome: 'dead-letter' as const,
        at: { subject: timerSubject(p), origin: 'orchestrator-timers' },
        envelope: { type: TIMER_SCHEDULED, workflowId: 'fuzz-wf-4', payload },
      })),
    },
    {
      // A well-formed decision on another workflow's subject, or on a subject of another type: never applied.
      weight: 8,
      arbitrary: fc.record({ id: fc.constantFrom(...legit), other: fc.constantFrom(...fuzzIds), typed: fc.boolean() }).map(({ id, other, typed }) => ({
        category: 'event on a subject not its own',
        outcome: 'dead-letter' as const,
        at: { subject: typed ? workflowEventTypeSubject(id, EMAIL_CLASSIFIED) : workflowEventSubject(other), origin: 'orchestrator' },
        envelope: { type: APPROVAL_DECIDED, workflowId: id, payload: { gateId: 'reply-approval', decision: 'approved', approver: { id: 'mallory', roles: ['approver'] }, comment: null, editedText: null } },
      })),
    },
    {
      weight: 2,
      arbitrary: fc.record({ id: fc.constantFrom(...fuzzIds), agent: fc.constantFrom(TRIAGE_AGENTS.classifier, TRIAGE_AGENTS.summariser, TRIAGE_AGENTS.supervisor), effect: fc.nat() }).map(({ id, agent, effect }) => ({
        category: 'valid agent task for a workflow that does not exist',
        outcome: 'result-dead-letter' as const,
        at: { subject: agentTaskSubject(agent.agent), origin: 'orchestrator' },
        envelope: { type: AGENT_TASK_REQUESTED, workflowId: id, payload: { effectId: `${id}:fuzz-task-${effect}`, agent: agent.agent, task: agent.task, input: { email } } },
      })),
    },
    {
      weight: 1,
      arbitrary: fc.record({ id: fc.constantFrom(...fuzzIds), effect: fc.nat() }).map(({ id, effect }) => ({
        category: 'valid timer, due, for a workflow that does not exist',
        outcome: 'result-dead-letter' as const,
        at: { subject: timerSubject(partitionOf(id)), origin: 'orchestrator' },
        envelope: { type: TIMER_SCHEDULED, workflowId: id, payload: { timerId: `${id}:fuzz-timer-${effect}`, workflowId: id, sendId: 's', dueAt: new Date(Date.now() - 1_000).toISOString(), event: { type: 'approval.timed_out' } } },
      })),
    },
  );
  const drawn = fc.sample(kinds, { numRuns: count, seed: SEED });
  return drawn.map((kind, n): FuzzMessage => {
    const withEnvelope = kind as typeof kind & { envelope?: { type: string; workflowId: string; payload: unknown }; data?: Uint8Array };
    const data = withEnvelope.data ?? json(envelope(withEnvelope.envelope!, n));
    return { n, category: kind.category, outcome: kind.outcome, subject: kind.at.subject, origin: kind.at.origin, workflowId: null, eventId: null, data };
  });
}

/**
 * Well-formed tasks under an envelope type their queue does not carry (an agent task typed as a decision
 * or a reply-send, a task on the reply-send effect queue): each dead-lettered as SUBJECT_MISMATCH by the
 * consumer of the queue, never acted on (acting on one would publish a result, dead-lettered twice).
 */
function mismatchedTypeMessages(start: number, count: number, email: Email): FuzzMessage[] {
  const agents = [TRIAGE_AGENTS.classifier, TRIAGE_AGENTS.summariser, TRIAGE_AGENTS.drafter, TRIAGE_AGENTS.quarantine, TRIAGE_AGENTS.supervisor];
  return fc
    .sample(fc.record({ agent: fc.constantFrom(...agents), onEffectQueue: fc.boolean(), type: fc.constantFrom(APPROVAL_DECIDED, REPLY_SEND_REQUESTED, EMAIL_CLASSIFIED), effect: fc.nat() }), { numRuns: count, seed: SEED + 2 })
    .map(({ agent, onEffectQueue, type, effect }, i): FuzzMessage => {
      const n = start + i;
      const workflowId = `fuzz-wf-${effect % 64}`;
      const payload = { effectId: `${workflowId}:fuzz-mismatch-${n}`, agent: agent.agent, task: agent.task, input: { email } };
      const at = onEffectQueue ? { subject: effectSubject(REPLY_SEND), origin: 'effect-reply-send', type: AGENT_TASK_REQUESTED } : { subject: agentTaskSubject(agent.agent), origin: `agent-${agent.agent}`, type };
      return {
        n,
        category: 'well-formed task under another envelope type',
        outcome: 'dead-letter',
        subject: at.subject,
        origin: at.origin,
        workflowId: null,
        eventId: null,
        data: json(envelope({ type: at.type, workflowId, payload }, n)),
      };
    });
}

/** Schema-valid events that are wrong for the live workflow they target: each is journaled as a rejection. */
function journaledMessages(start: number, count: number, pending: Map<string, PendingApproval | null>): FuzzMessage[] {
  const ids = [...pending.keys()];
  return fc
    .sample(fc.record({ id: fc.constantFrom(...ids), timer: fc.boolean(), roles: fc.constantFrom(['viewer'], ['operator'], ['viewer', 'operator']) }), { numRuns: count, seed: SEED + 1 })
    .map(({ id, timer, roles }, i): FuzzMessage => {
      const n = start + i;
      const eventId = `fuzz-${n}`;
      const body = timer
        ? envelope({ id: eventId, type: TIMER_FIRED, workflowId: id, payload: { timerId: `${id}:0:timer:fuzz-${n}`, sendId: 'fuzz', dueAt: new Date().toISOString(), event: { type: 'approval.timed_out' } } }, n)
        : envelope({ id: eventId, type: APPROVAL_DECIDED, workflowId: id, payload: { gateId: pending.get(id)?.gateId ?? 'reply-approval', decision: 'approved', approver: { id: 'fuzz-mallory', roles }, comment: null, editedText: null } }, n);
      return {
        n,
        category: timer ? 'timer.fired of a timer not active' : 'approval.decided by a role not allowed',
        outcome: 'journaled',
        subject: workflowEventTypeSubject(id, body.type),
        origin: null,
        workflowId: id,
        eventId,
        data: json(body),
      };
    });
}

async function publishAll(js: JetStreamClient, messages: FuzzMessage[], refused: Set<number>): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  for (const message of messages) {
    const h = natsHeaders();
    h.set(FUZZ_HEADER, String(message.n));
    const publish = js
      .publish(message.subject, message.data, { headers: h, timeout: 30_000 })
      .then(
        () => undefined,
        (error: Error) => {
          if (message.outcome !== 'refused-at-publish') throw error;
          refused.add(message.n);
        },
      )
      .finally(() => inFlight.delete(publish));
    inFlight.add(publish);
    if (inFlight.size >= 256) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

/** Resident set size of a process, bytes (Linux /proc). */
function rssOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? 0 : Number(match[1]) * 1_024;
  } catch {
    return 0;
  }
}

describe('bad input on the bus: malformed messages on every consumed subject, interleaved with a triage run', () => {
  let stack: TroupeStack;
  let legit: string[];
  let fuzz: FuzzMessage[];
  const refused = new Set<number>();
  const peakRss = new Map<string, number>();
  const rssSamples = new Map<string, number[]>();
  let sampler: NodeJS.Timeout;
  const startedAt = new Date();

  beforeAll(async () => {
    stack = await startTroupeStack();
    sampler = setInterval(() => {
      for (const [app, handle] of stack.apps) {
        const rss = rssOf(handle.process.pid);
        peakRss.set(app, Math.max(peakRss.get(app) ?? 0, rss));
        rssSamples.set(app, [...(rssSamples.get(app) ?? []), rss]);
      }
    }, 500);
    const test = corpusSplit(loadSpamAssassinCorpus(), 'test');
    const router = new HeaderRuleRouter();
    const drafted: CorpusEmail[] = [];
    for (const email of test.filter((e) => e.label === 'ham')) {
      if ((await router.route(await parseCorpusEmail(email))).route === 'draft_reply') drafted.push(email);
      if (drafted.length === 5) break;
    }
    const emails = [...drafted, ...test.filter((e) => e.group === 'easy-ham-1').slice(0, 10), ...test.filter((e) => e.label === 'spam').slice(0, 5)];
    legit = emails.map((_, index) => `triage-fuzz-${index}`);
    const email = await parseCorpusEmail(test[0]);
    const journaledCount = Math.max(1, Math.round(COUNT * 0.03));
    const mismatchedCount = Math.max(1, Math.round(COUNT * 0.005));
    fuzz = fuzzMessages(COUNT - journaledCount - mismatchedCount - 2, legit, email);
    fuzz.push(...mismatchedTypeMessages(fuzz.length, mismatchedCount, email));
    // Two over the server's max_payload (1 MiB): the client refuses them.
    for (const size of [1_100_000, 4_000_000]) {
      fuzz.push({ n: fuzz.length, category: 'over max_payload', outcome: 'refused-at-publish', subject: agentTaskSubject('classifier'), origin: null, workflowId: null, eventId: null, data: new Uint8Array(size) });
    }
    const js = stack.connection.jetstream();
    // Interleaved: the triage run and the first half of the fuzz are published at the same time.
    const half = Math.floor(fuzz.length / 2);
    await Promise.all([publishEmails(stack, 'fuzz', emails), publishAll(js, fuzz.slice(0, half), refused)]);
    await publishAll(js, fuzz.slice(half), refused);
    // Journaled rejections need the workflow to exist: sent once every legit workflow has been seen.
    expect(await stack.tracker.waitFor(() => legit.every((id) => stack.tracker.workflows.get(id)?.last !== null), 120_000)).toBe(true);
    const pending = new Map(legit.map((id) => [id, stack.tracker.workflows.get(id)?.last?.pendingApproval ?? null] as const));
    const journaled = journaledMessages(fuzz.length, journaledCount, pending as Map<string, PendingApproval | null>);
    fuzz.push(...journaled);
    await publishAll(js, journaled, refused);
    console.log(`bus fuzz: ${fuzz.length} messages tried (seed ${SEED}): ${JSON.stringify(countBy(fuzz, (m) => m.category))}`);
  });

  afterAll(async () => {
    clearInterval(sampler);
    await stack?.stop();
  });

  it('dead-letters every refused message with its reason, on the subject of the consumer that refused it', async () => {
    const expected = fuzz.filter((m) => m.outcome === 'dead-letter' || m.outcome === 'result-dead-letter');
    const letters = await readAllDeadLetters(stack, startedAt, expected.length, 180_000);
    const byFuzzId = new Map<number, Array<{ subject: string; letter: DeadLetter }>>();
    const results = new Map<string, Array<{ subject: string; letter: DeadLetter }>>();
    for (const entry of letters) {
      const id = entry.letter.headers[FUZZ_HEADER]?.[0];
      if (id !== undefined) byFuzzId.set(Number(id), [...(byFuzzId.get(Number(id)) ?? []), entry]);
      else results.set(entry.letter.origin.subject, [...(results.get(entry.letter.origin.subject) ?? []), entry]);
    }
    const missing: string[] = [];
    for (const message of fuzz.filter((m) => m.outcome === 'dead-letter')) {
      const found = byFuzzId.get(message.n) ?? [];
      if (found.length !== 1 || found[0].subject !== `troupe.dlq.${message.origin}` || found[0].letter.reason === '') {
        missing.push(`#${message.n} ${message.category} on ${message.subject}: ${found.map((f) => f.subject).join(',') || 'no dead letter'}`);
      }
    }
    expect(missing.slice(0, 10), `${missing.length} refused messages not dead-lettered once with a reason`).toEqual([]);
    // A valid task or timer for a workflow that does not exist: its result is dead-lettered by the orchestrator.
    const resultLetters = [...results.values()].flat();
    for (const entry of resultLetters) {
      expect(entry.subject).toBe('troupe.dlq.orchestrator');
      expect(entry.letter.errorCode).toBe('UNKNOWN_WORKFLOW');
      expect(entry.letter.origin.subject).toMatch(/^troupe\.wf\.\d+\.fuzz-wf-\d+\./);
    }
    const resultCount = fuzz.filter((m) => m.outcome === 'result-dead-letter').length;
    // Several fuzz tasks can share one effect id, and so one result (deduplicated by Nats-Msg-Id).
    const distinctResults = new Set(fuzz.filter((m) => m.outcome === 'result-dead-letter').map((m) => (JSON.parse(new TextDecoder().decode(m.data)) as { payload: { effectId?: string; timerId?: string } }).payload).map((p) => p.effectId ?? p.timerId)).size;
    expect(resultLetters.length).toBe(distinctResults);
    const reasons = countBy(letters, (l) => l.letter.errorCode);
    console.log(
      `bus fuzz: ${letters.length} dead letters (${expected.length - resultCount} refused messages, ${resultLetters.length} results of ${resultCount} valid tasks/timers for unknown workflows); by code ${JSON.stringify(reasons)}; ${refused.size} refused at publish`,
    );
    expect(refused.size).toBe(fuzz.filter((m) => m.outcome === 'refused-at-publish').length);
    expect(letters.length).toBe(expected.length - resultCount + distinctResults);
  });

  it('journals every schema-valid but wrong event as a rejection, and applies none of them', async () => {
    const persistence = await createPersistence({ nats: stack.connection });
    try {
      const journaled = fuzz.filter((m) => m.outcome === 'journaled');
      const unaccounted: string[] = [];
      for (const id of legit) {
        const journal = await persistence.journal.read(id);
        const fuzzed = journal.filter((entry) => entry.eventId.startsWith('fuzz-'));
        for (const entry of fuzzed) if (entry.rejection === null) unaccounted.push(`${id}: ${entry.eventId} was applied`);
        for (const message of journaled.filter((m) => m.workflowId === id)) {
          if (!fuzzed.some((entry) => entry.eventId === message.eventId && entry.rejection !== null)) unaccounted.push(`${id}: ${message.eventId} (${message.category}) not journaled as a rejection`);
        }
      }
      console.log(`bus fuzz: ${journaled.length} journaled rejections checked`);
      expect(unaccounted.slice(0, 10)).toEqual([]);
    } finally {
      await persistence.close();
    }
  });

  it('keeps every app alive and its memory bounded', () => {
    for (const [app, handle] of stack.apps) {
      expect(handle.process.exitCode, `${app} exited`).toBeNull();
      expect(handle.process.signalCode, `${app} was killed`).toBeNull();
    }
    const report = [...peakRss].map(([app, rss]) => `${app} ${(rss / 1_048_576).toFixed(0)} MiB`).join(', ');
    console.log(`bus fuzz: peak RSS ${report}`);
    for (const [app, rss] of peakRss) expect(rss, `${app} peak RSS`).toBeLessThan(RSS_BOUND_BYTES);
  });

  it('brings the normal run to completion: every workflow final once its approvals are decided', async () => {
    for (let round = 0; round < 4; round += 1) {
      const settled = await stack.tracker.waitFor(() => legit.every((id) => stack.tracker.workflows.get(id)?.settledAtMs !== null), 60_000);
      expect(settled).toBe(true);
      const waiting = legit.filter((id) => stack.tracker.workflows.get(id)?.last?.pendingApproval);
      if (waiting.length === 0) break;
      for (const id of waiting) {
        stack.tracker.workflows.get(id)!.settledAtMs = null;
        const response = await fetch(`${stack.gatewayUrl}/workflows/${id}/approvals`, { method: 'POST', headers: stack.headers('approver'), body: JSON.stringify({ decision: 'approved' }) });
        expect(response.status).toBe(202);
      }
    }
    const states = legit.map((id) => String(stack.tracker.workflows.get(id)?.last?.stateValue));
    expect(states.filter((state) => !FINAL.includes(state))).toEqual([]);
    expect(states).toContain('sent');
  });
});

function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

/** Every dead letter since `since`, once the stream holds `atLeast` (or `timeoutMs` passed). */
async function readAllDeadLetters(stack: TroupeStack, since: Date, atLeast: number, timeoutMs: number): Promise<Array<{ subject: string; letter: DeadLetter }>> {
  const jsm = await stack.connection.jetstreamManager();
  const deadline = Date.now() + timeoutMs;
  let stored = 0;
  let unchangedSince = Date.now();
  while (Date.now() < deadline) {
    const { state } = await jsm.streams.info(STREAMS.deadLetters.name);
    if (state.messages !== stored) unchangedSince = Date.now();
    stored = state.messages;
    // Wait for the expected count, then a little longer for any extra (duplicates would show there).
    if (stored >= atLeast && Date.now() - unchangedSince > 3_000) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const consumer = await stack.connection.jetstream().consumers.get(STREAMS.deadLetters.name, { deliver_policy: DeliverPolicy.StartTime, opt_start_time: since.toISOString() });
  const letters: Array<{ subject: string; letter: DeadLetter }> = [];
  while (letters.length < stored) {
    const batch = await consumer.fetch({ max_messages: 1_000, expires: 2_000 });
    let got = 0;
    for await (const message of batch) {
      got += 1;
      letters.push({ subject: message.subject, letter: DeadLetter.parse(message.json()) });
    }
    if (got === 0) break;
  }
  return letters;
}
