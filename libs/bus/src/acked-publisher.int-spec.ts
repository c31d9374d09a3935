import { connect, headers, NatsError, RetentionPolicy, StorageType, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer, type NatsServerHandle } from '@troupe/testing';
import { AckedPublisher } from './acked-publisher';

let server: NatsServerHandle;
let nats: NatsConnection;
let publisher: AckedPublisher;
const encode = (text: string) => new TextEncoder().encode(text);

beforeAll(async () => {
  server = await startNatsServer();
  nats = await connect({ servers: server.url });
  const jsm = await nats.jetstreamManager();
  await jsm.streams.add({ name: 'ACKED', subjects: ['acked.>'], retention: RetentionPolicy.Limits, storage: StorageType.File });
  publisher = new AckedPublisher(nats, { timeoutMs: 300 });
});

afterAll(async () => {
  publisher?.close();
  await nats?.close();
  await server?.stop();
});

describe('AckedPublisher', () => {
  it('resolves with the stream and sequence of each message, as JetStreamClient.publish does', async () => {
    const acks = await Promise.all([1, 2, 3].map((n) => publisher.publish('acked.a', encode(`m${n}`))));
    expect(acks.map((ack) => ack.stream)).toEqual(['ACKED', 'ACKED', 'ACKED']);
    expect(new Set(acks.map((ack) => ack.seq)).size).toBe(3);
    const stored = await (await nats.jetstreamManager()).streams.getMessage('ACKED', { seq: acks[0].seq });
    expect(new TextDecoder().decode(stored.data)).toMatch(/^m\d$/);
  });

  it('sends msgID and headers: a repeat within the duplicate window is acked as a duplicate', async () => {
    const hdrs = headers();
    hdrs.set('Troupe-Type', 'test');
    const first = await publisher.publish('acked.b', encode('x'), { msgID: 'b-1', headers: hdrs });
    const again = await publisher.publish('acked.b', encode('x'), { msgID: 'b-1' });
    expect(first.duplicate).toBe(false);
    expect(again).toMatchObject({ duplicate: true, seq: first.seq });
    const stored = await (await nats.jetstreamManager()).streams.getMessage('ACKED', { seq: first.seq });
    expect(stored.header.get('Troupe-Type')).toBe('test');
  });

  it('rejects a failed expectation with the JetStream API error (wrong last sequence, 10071)', async () => {
    const { seq } = await publisher.publish('acked.c', encode('1'), { expect: { lastSubjectSequence: 0 } });
    await expect(publisher.publish('acked.c', encode('2'), { expect: { lastSubjectSequence: seq } })).resolves.toMatchObject({ seq: expect.any(Number) });
    const refused = await publisher.publish('acked.c', encode('3'), { expect: { lastSubjectSequence: seq } }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(NatsError);
    expect((refused as NatsError).api_error?.err_code).toBe(10071);
    expect((refused as NatsError).message).toMatch(/wrong last sequence/i);
    const wrongStream = await publisher.publish('acked.c', encode('4'), { expect: { streamName: 'OTHER' } }).catch((error: unknown) => error);
    expect((wrongStream as NatsError).api_error).toBeDefined();
  });

  it('rejects with 503 when no stream takes the subject, and with TIMEOUT when no ack comes', async () => {
    const noStream = await publisher.publish('nobody.listens', encode('x')).catch((error: unknown) => error);
    expect((noStream as NatsError).code).toBe('503');
    // A core subscriber that never answers: the publish waits for its timeout (300 ms here).
    const silent = nats.subscribe('silent.subject');
    const timedOut = await publisher.publish('silent.subject', encode('x')).catch((error: unknown) => error);
    expect((timedOut as NatsError).code).toBe('TIMEOUT');
    silent.unsubscribe();
  });

  it('fails publishes still waiting when closed', async () => {
    const own = await connect({ servers: server.url });
    const closing = new AckedPublisher(own);
    const silent = own.subscribe('silent.close');
    const waiting = closing.publish('silent.close', encode('x')).catch((error: unknown) => error);
    await own.flush();
    closing.close();
    expect(((await waiting) as NatsError).code).toBe('CONNECTION_CLOSED');
    silent.unsubscribe();
    await own.close();
  });
});
