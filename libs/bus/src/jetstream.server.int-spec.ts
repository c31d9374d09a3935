import { performance } from 'node:perf_hooks';
import { connect, type NatsConnection } from 'nats';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ALL_WORKFLOW_EVENTS,
  SchemaValidationError,
  deadLetterSubject,
  STREAMS,
  orchestratorPartitionConsumer,
  partitionOf,
  workflowEventSubject,
  type Envelope,
} from '@troupe/contracts';
import { startNatsServer, type NatsServerHandle } from '@troupe/testing';
import { JetStreamContext, JetStreamServer } from './jetstream.server';
import { provisionStreams } from './provisioning';
import { publishEnvelope } from './publisher';

let server: NatsServerHandle;
let nats: NatsConnection;
const servers: JetStreamServer[] = [];
const connections: NatsConnection[] = [];

beforeAll(async () => {
  server = await startNatsServer();
  nats = await connect({ servers: server.url });
  await provisionStreams(await nats.jetstreamManager());
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await Promise.all(connections.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await nats?.close();
  await server?.stop();
});

type Handler = (envelope: Envelope, context: JetStreamContext) => Promise<unknown>;

/** A listening server on its own connection, with `handler` as the `@EventPattern(troupe.wf.*.*)` handler. */
async function startServer(handler: Handler, concurrency: number): Promise<JetStreamServer> {
  const connection = await connect({ servers: server.url });
  connections.push(connection);
  const jetStreamServer = new JetStreamServer({ connection, consumers: [], concurrency });
  jetStreamServer.addHandler(ALL_WORKFLOW_EVENTS, (envelope: Envelope, context: JetStreamContext) => handler(envelope, context), true);
  await new Promise<void>((resolve, reject) => jetStreamServer.listen((error?: unknown) => (error ? reject(error as Error) : resolve())));
  servers.push(jetStreamServer);
  return jetStreamServer;
}

/** Publishes `count` events into workflows of `partition`; returns their ids in publish order. */
async function publishInto(partition: number, count: number, tag: string): Promise<string[]> {
  const js = nats.jetstream();
  const ids: string[] = [];
  for (let n = 0; ids.length < count; n++) {
    const workflowId = `wf-${tag}-${n}`;
    if (partitionOf(workflowId) !== partition) continue;
    const envelope: Envelope = {
      id: `${workflowId}:1`,
      type: 'test.happened',
      workflowId,
      correlationId: workflowId,
      causationId: null,
      occurredAt: new Date().toISOString(),
      source: 'int-spec',
      payload: {},
    };
    await publishEnvelope(js, workflowEventSubject(workflowId), envelope, { msgId: envelope.id });
    ids.push(envelope.id);
  }
  return ids;
}

async function waitFor(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('JetStreamServer with consumers started and stopped at run time', () => {
  it('stops a consumer after its handlers in flight finish, and the next consumer gets the rest at once', async () => {
    const partition = 1;
    const consumer = orchestratorPartitionConsumer(partition);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const handledByA: string[] = [];
    const handledByB: string[] = [];
    const sequencesAtB: number[] = [];
    const a = await startServer(async (envelope) => {
      handledByA.push(envelope.id);
      await gate;
    }, 4);
    const b = await startServer(async (envelope, context) => {
      handledByB.push(envelope.id);
      sequencesAtB.push(context.message.seq);
    }, 4);

    await a.startConsumer(consumer, { pattern: ALL_WORKFLOW_EVENTS });
    expect(a.consumerNames()).toEqual([consumer.durable]);
    const ids = await publishInto(partition, 40, 'handover');
    await waitFor(() => handledByA.length === 4);

    let stopped = false;
    const stopping = a.stopConsumer(consumer.durable).then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stopped).toBe(false);
    open();
    await stopping;
    expect(a.consumerNames()).toEqual([]);
    expect(a.counters.acked).toBe(4);

    const startedAt = performance.now();
    await b.startConsumer(consumer, { pattern: ALL_WORKFLOW_EVENTS });
    await waitFor(() => handledByB.length >= 36);
    // Well within the ack wait: nothing waited for a redelivery timeout.
    expect(performance.now() - startedAt).toBeLessThan(consumer.ackWaitMs / 2);
    // Each message once, in stream order: first those A had pulled but not handled, then the rest.
    expect([...handledByA, ...handledByB]).toEqual(ids);
    expect(sequencesAtB).toEqual([...sequencesAtB].sort((x, y) => x - y));
    await waitFor(() => b.counters.acked === 36);
    const info = await (await nats.jetstreamManager()).consumers.info(consumer.stream, consumer.durable);
    expect(info.num_ack_pending + info.num_pending).toBe(0);
  });

  it('shares one concurrency limit among the consumers of one pattern', async () => {
    let running = 0;
    let maxRunning = 0;
    const handled = new Set<string>();
    const s = await startServer(async (envelope) => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running -= 1;
      handled.add(envelope.id);
    }, 3);
    await s.startConsumer(orchestratorPartitionConsumer(2), { pattern: ALL_WORKFLOW_EVENTS });
    await s.startConsumer(orchestratorPartitionConsumer(3), { pattern: ALL_WORKFLOW_EVENTS });
    const ids = [...(await publishInto(2, 20, 'limit')), ...(await publishInto(3, 20, 'limit'))];
    await waitFor(() => handled.size === ids.length);
    expect(maxRunning).toBeLessThanOrEqual(3);
    expect(maxRunning).toBeGreaterThan(1);
  });

  it('starts a consumer again that is still stopping, once its handlers in flight finished', async () => {
    const partition = 6;
    const consumer = orchestratorPartitionConsumer(partition);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const handled: string[] = [];
    const s = await startServer(async (envelope) => {
      handled.push(envelope.id);
      if (handled.length === 1) await gate;
    }, 1);
    await s.startConsumer(consumer, { pattern: ALL_WORKFLOW_EVENTS });
    const ids = await publishInto(partition, 5, 'restart');
    await waitFor(() => handled.length === 1);
    const stopping = s.stopConsumer(consumer.durable);
    const restarting = s.startConsumer(consumer, { pattern: ALL_WORKFLOW_EVENTS });
    open();
    await Promise.all([stopping, restarting]);
    expect(s.consumerNames()).toEqual([consumer.durable]);
    await waitFor(() => handled.length === ids.length);
    expect(handled).toEqual(ids);
  });

  it('rejects a consumer whose pattern has no handler', async () => {
    const s = await startServer(async () => undefined, 2);
    await expect(s.startConsumer(orchestratorPartitionConsumer(5), { pattern: 'troupe.nothing.*' })).rejects.toThrow(/no @EventPattern/);
    expect(s.consumerNames()).toEqual([]);
  });

  it('dead-letters a message its handler rejects as not retryable, under the dead-letter origin it was given, and terminates it', async () => {
    const partition = 4;
    const consumer = orchestratorPartitionConsumer(partition);
    const s = await startServer(async () => {
      throw new SchemaValidationError('test payload', ['x: required']);
    }, 2);
    await s.startConsumer(consumer, { pattern: ALL_WORKFLOW_EVENTS, deadLetterOrigin: 'poison-origin' });
    await publishInto(partition, 1, 'poison');
    await waitFor(() => s.counters.deadLettered === 1);
    const jsm = await nats.jetstreamManager();
    const letters = await jsm.streams.info(STREAMS.deadLetters.name, { subjects_filter: '>' });
    expect(Object.keys(letters.state.subjects ?? {})).toContain(deadLetterSubject('poison-origin'));
    // Terminated, not left to the ack wait (10 s): a term the server ignored would keep it pending and bring it back.
    let info = await jsm.consumers.info(consumer.stream, consumer.durable);
    for (let polls = 0; info.num_ack_pending > 0 && polls < 200; polls++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      info = await jsm.consumers.info(consumer.stream, consumer.durable);
    }
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_redelivered).toBe(0);
    expect(s.counters.deadLettered).toBe(1);
  });
});
