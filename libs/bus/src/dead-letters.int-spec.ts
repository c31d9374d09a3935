import { randomUUID } from 'node:crypto';
import { startNatsServer, type NatsServerHandle } from '@troupe/testing';
import { AckPolicy, DeliverPolicy, connect, type JetStreamManager, type NatsConnection } from 'nats';
import { SchemaValidationError, STREAMS, deadLetterSubject, workflowEventSubject, type Envelope } from '@troupe/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishDeadLetter } from './dead-letter';
import {
  DeadLetterNotFoundError,
  DeadLetterQueryError,
  DeadLetterReplayError,
  DeadLetterUnreadableError,
  REPLAY_OF_HEADER,
  listDeadLetters,
  replayDeadLetter,
} from './dead-letters';
import { provisionStreams } from './provisioning';
import { TYPE_HEADER, publishEnvelope } from './publisher';

// One nats-server for the file; every test uses its own origin names and workflow ids.
let server: NatsServerHandle;
let nats: NatsConnection;
let jsm: JetStreamManager;

beforeAll(async () => {
  server = await startNatsServer();
  nats = await connect({ servers: server.url });
  jsm = await nats.jetstreamManager();
  await provisionStreams(jsm);
});

afterAll(async () => {
  await nats?.close();
  await server?.stop();
});

function uniqueOrigin(name: string): string {
  return `${name}-${randomUUID().slice(0, 8)}`;
}

/** A workflow event really stored in WF_EVENTS, then dead-lettered by `origin` as JetStreamServer does it. */
async function deadLetterAWorkflowEvent(origin: string): Promise<{ workflowId: string; subject: string; originSequence: number; data: Uint8Array }> {
  const workflowId = `dlq-${randomUUID()}`;
  const subject = workflowEventSubject(workflowId);
  const envelope: Envelope = {
    id: `${workflowId}:received`,
    type: 'email.received',
    workflowId,
    correlationId: workflowId,
    causationId: null,
    occurredAt: new Date().toISOString(),
    source: 'dead-letters-spec',
    payload: { broken: true },
  };
  const ack = await publishEnvelope(nats.jetstream(), subject, envelope, { msgId: envelope.id, headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } });
  const stored = await jsm.streams.getMessage(STREAMS.workflowEvents.name, { seq: ack.seq });
  await publishDeadLetter(nats.jetstream(), {
    origin,
    stream: ack.stream,
    subject,
    streamSequence: ack.seq,
    deliveryCount: 5,
    headers: stored.header,
    data: stored.data,
    error: new SchemaValidationError('email.received payload', ['payload.email: required']),
  });
  return { workflowId, subject, originSequence: ack.seq, data: stored.data };
}

/** How many messages WF_EVENTS holds on `subject`. */
async function storedOn(subject: string): Promise<number> {
  const info = await jsm.streams.info(STREAMS.workflowEvents.name, { subjects_filter: subject });
  return info.state.subjects?.[subject] ?? 0;
}

async function lastDeadLetterSequence(): Promise<number> {
  return (await jsm.streams.info(STREAMS.deadLetters.name)).state.last_seq;
}

describe('listDeadLetters', () => {
  it('lists the dead letters of one origin oldest first, with the reason and the delivery count', async () => {
    const orchestrator = uniqueOrigin('orchestrator');
    const classifier = uniqueOrigin('agent-classifier');
    const first = await deadLetterAWorkflowEvent(orchestrator);
    await deadLetterAWorkflowEvent(classifier);
    const second = await deadLetterAWorkflowEvent(orchestrator);

    const listed = await listDeadLetters(nats, { origin: orchestrator });

    expect(listed.map((entry) => entry.deadLetter.origin.subject)).toEqual([first.subject, second.subject]);
    expect(listed[0].sequence).toBeLessThan(listed[1].sequence);
    expect(listed[0]).toMatchObject({
      subject: deadLetterSubject(orchestrator),
      deadLetter: {
        origin: { stream: STREAMS.workflowEvents.name, consumer: orchestrator, streamSequence: first.originSequence },
        errorCode: 'SCHEMA_VALIDATION_FAILED',
        issues: ['payload.email: required'],
        deliveryCount: 5,
      },
    });
  });

  it('lists every origin when none is given, and pages with limit and afterSequence', async () => {
    const start = await lastDeadLetterSequence();
    const origins = [uniqueOrigin('a'), uniqueOrigin('b'), uniqueOrigin('a'), uniqueOrigin('c'), uniqueOrigin('b')];
    for (const origin of origins) await deadLetterAWorkflowEvent(origin);

    const all = await listDeadLetters(nats, { afterSequence: start });
    expect(all.map((entry) => entry.deadLetter.origin.consumer)).toEqual(origins);

    const firstPage = await listDeadLetters(nats, { afterSequence: start, limit: 2 });
    const secondPage = await listDeadLetters(nats, { afterSequence: firstPage[1].sequence, limit: 2 });
    const lastPage = await listDeadLetters(nats, { afterSequence: secondPage[1].sequence, limit: 2 });
    expect([...firstPage, ...secondPage, ...lastPage]).toEqual(all);
    expect(lastPage).toHaveLength(1);
    expect(await listDeadLetters(nats, { afterSequence: lastPage[0].sequence })).toEqual([]);
  });

  it('returns an empty list for an origin without dead letters', async () => {
    expect(await listDeadLetters(nats, { origin: uniqueOrigin('never-failed') })).toEqual([]);
  });

  it('refuses a limit or afterSequence out of range', async () => {
    for (const options of [{ limit: 0 }, { limit: 1_001 }, { limit: 2.5 }, { afterSequence: -1 }, { origin: ' ' }]) {
      const error = await listDeadLetters(nats, options).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DeadLetterQueryError);
      expect(error).toMatchObject({ code: 'DEAD_LETTER_QUERY_INVALID' });
    }
  });

  it('names the sequence of a stored message that is not a dead letter, and lists past it', async () => {
    const origin = uniqueOrigin('garbled');
    const garbage = await nats.jetstream().publish(deadLetterSubject(origin), new TextEncoder().encode('{"not":"a dead letter"}'));
    const after = await deadLetterAWorkflowEvent(origin);

    const error = await listDeadLetters(nats, { origin }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DeadLetterUnreadableError);
    expect(error).toMatchObject({ code: 'DEAD_LETTER_UNREADABLE', sequence: garbage.seq });

    const rest = await listDeadLetters(nats, { origin, afterSequence: garbage.seq });
    expect(rest.map((entry) => entry.deadLetter.origin.subject)).toEqual([after.subject]);
  });
});

describe('replayDeadLetter', () => {
  it('republishes the original bytes and headers to the original subject and removes the dead letter', async () => {
    const origin = uniqueOrigin('orchestrator');
    const original = await deadLetterAWorkflowEvent(origin);
    const [letter] = await listDeadLetters(nats, { origin });
    // A plain consumer of the origin stream, as the orchestrator has, starting after the original.
    const durable = `replay-${randomUUID().slice(0, 8)}`;
    await jsm.consumers.add(STREAMS.workflowEvents.name, {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: original.originSequence + 1,
      filter_subject: original.subject,
    });

    const replay = await replayDeadLetter(nats, letter.sequence);

    expect(replay).toMatchObject({
      sequence: letter.sequence,
      subject: original.subject,
      msgId: `replay:${STREAMS.deadLetters.name}:${letter.sequence}`,
      stream: STREAMS.workflowEvents.name,
      duplicate: false,
      deadLetter: letter.deadLetter,
    });
    const delivered = await (await nats.jetstream().consumers.get(STREAMS.workflowEvents.name, durable)).next({ expires: 5_000 });
    expect(delivered).not.toBeNull();
    expect(delivered?.subject).toBe(original.subject);
    expect(delivered?.info.streamSequence).toBe(replay.streamSequence);
    expect(Buffer.from(delivered?.data ?? []).equals(Buffer.from(original.data))).toBe(true);
    expect(delivered?.headers?.get(TYPE_HEADER)).toBe('email.received');
    expect(delivered?.headers?.get('traceparent')).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    // The old Nats-Msg-Id is gone (it would have been deduplicated against the original).
    expect(delivered?.headers?.get('Nats-Msg-Id')).toBe(replay.msgId);
    expect(delivered?.headers?.get(REPLAY_OF_HEADER)).toBe(`${STREAMS.deadLetters.name}:${letter.sequence}`);
    delivered?.ack();
    expect(await listDeadLetters(nats, { origin })).toEqual([]);
  });

  it('refuses a second replay of the same dead letter with DEAD_LETTER_NOT_FOUND', async () => {
    const origin = uniqueOrigin('agent-drafter');
    const original = await deadLetterAWorkflowEvent(origin);
    const [letter] = await listDeadLetters(nats, { origin });
    await replayDeadLetter(nats, letter.sequence);

    const error = await replayDeadLetter(nats, letter.sequence).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(DeadLetterNotFoundError);
    expect(error).toMatchObject({ code: 'DEAD_LETTER_NOT_FOUND', sequence: letter.sequence, retryable: false });
    expect(await storedOn(original.subject)).toBe(2);
  });

  it('delivers the original once when two replays of one dead letter race', async () => {
    const origin = uniqueOrigin('orchestrator');
    const original = await deadLetterAWorkflowEvent(origin);
    const [letter] = await listDeadLetters(nats, { origin });

    const outcomes = await Promise.allSettled([replayDeadLetter(nats, letter.sequence), replayDeadLetter(nats, letter.sequence)]);

    const fulfilled = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    const rejected = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
    expect(fulfilled.filter((replay) => !replay.duplicate)).toHaveLength(1);
    for (const reason of rejected) expect(reason).toBeInstanceOf(DeadLetterNotFoundError);
    expect(await storedOn(original.subject)).toBe(2);
    expect(await listDeadLetters(nats, { origin })).toEqual([]);
  });

  it('keeps the dead letter when no stream takes the original subject', async () => {
    const origin = uniqueOrigin('gateway');
    await publishDeadLetter(nats.jetstream(), {
      origin,
      stream: null,
      subject: `nowhere.${randomUUID()}`,
      streamSequence: null,
      deliveryCount: 1,
      headers: undefined,
      data: new TextEncoder().encode('{}'),
      error: new Error('boom'),
    });
    const [letter] = await listDeadLetters(nats, { origin });

    const error = await replayDeadLetter(nats, letter.sequence).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(DeadLetterReplayError);
    expect(error).toMatchObject({ code: 'DEAD_LETTER_REPLAY_FAILED', retryable: true, replayed: null });
    expect(await listDeadLetters(nats, { origin })).toEqual([letter]);
  });

  it('reports DEAD_LETTER_NOT_FOUND for a sequence that was never written', async () => {
    const error = await replayDeadLetter(nats, (await lastDeadLetterSequence()) + 1_000).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DeadLetterNotFoundError);
  });
});
