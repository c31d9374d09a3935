import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_PARTITION_COUNT,
  ORCHESTRATOR_CONSUMER,
  orchestratorPartitionConsumer,
  workflowEventSubject,
  type Envelope,
} from '@troupe/contracts';
import { startNatsServer, type NatsServerHandle } from '@troupe/testing';
import { provisionConsumer, provisionReplacementConsumers, provisionStreams } from './provisioning';
import { publishEnvelope } from './publisher';

let server: NatsServerHandle;
let nats: NatsConnection;

beforeAll(async () => {
  server = await startNatsServer();
  nats = await connect({ servers: server.url });
  await provisionStreams(await nats.jetstreamManager());
});

afterAll(async () => {
  await nats?.close();
  await server?.stop();
});

describe('provisionReplacementConsumers', () => {
  it('starts the partition consumers after what the legacy consumer acknowledged, then deletes it', async () => {
    const jsm = await nats.jetstreamManager();
    const js = nats.jetstream();
    await provisionConsumer(jsm, ORCHESTRATOR_CONSUMER);
    for (let n = 0; n < 10; n++) {
      const envelope: Envelope = {
        id: `wf-legacy-${n}:1`,
        type: 'test.happened',
        workflowId: `wf-legacy-${n}`,
        correlationId: `wf-legacy-${n}`,
        causationId: null,
        occurredAt: new Date().toISOString(),
        source: 'int-spec',
        payload: {},
      };
      await publishEnvelope(js, workflowEventSubject(envelope.workflowId), envelope, { msgId: envelope.id });
    }
    // The legacy consumer handled the first six.
    const legacy = await js.consumers.get(ORCHESTRATOR_CONSUMER.stream, ORCHESTRATOR_CONSUMER.durable);
    for (let n = 0; n < 6; n++) await (await legacy.next({ expires: 2_000 }))!.ackAck();

    const partitionConsumers = Array.from({ length: DEFAULT_PARTITION_COUNT }, (_, p) => orchestratorPartitionConsumer(p));
    expect(await provisionReplacementConsumers(jsm, partitionConsumers, ORCHESTRATOR_CONSUMER)).toBe(true);

    await expect(jsm.consumers.info(ORCHESTRATOR_CONSUMER.stream, ORCHESTRATOR_CONSUMER.durable)).rejects.toThrow(/not found/);
    const pending = async () => {
      const infos = await Promise.all(partitionConsumers.map((c) => jsm.consumers.info(c.stream, c.durable)));
      return infos.reduce((sum, info) => sum + info.num_pending, 0);
    };
    expect(await pending()).toBe(4);
    // Idempotent: nothing left to replace, the partition consumers stay as they are.
    expect(await provisionReplacementConsumers(jsm, partitionConsumers, ORCHESTRATOR_CONSUMER)).toBe(false);
    expect(await pending()).toBe(4);
  });
});

describe('provisionConsumer', () => {
  it('moves a consumer to a changed filter subject without delivering acknowledged events again or losing pending ones', async () => {
    const jsm = await nats.jetstreamManager();
    const js = nats.jetstream();
    const current = orchestratorPartitionConsumer(3);
    // The consumer as an older release provisioned it: one token after the workflow id.
    const older = { ...current, durable: 'filter-change-test', filterSubject: current.filterSubject.replace(/>$/, '*') };
    const renewed = { ...current, durable: 'filter-change-test' };
    await provisionConsumer(jsm, older);
    const ids: string[] = [];
    for (let n = 0; ids.length < 3; n++) {
      const workflowId = `wf-filter-${n}`;
      if (workflowEventSubject(workflowId).split('.')[2] !== '3') continue;
      const envelope: Envelope = { id: `${workflowId}:1`, type: 'test.happened', workflowId, correlationId: workflowId, causationId: null, occurredAt: new Date().toISOString(), source: 'int-spec', payload: {} };
      await publishEnvelope(js, workflowEventSubject(workflowId), envelope, { msgId: envelope.id });
      ids.push(workflowId);
    }
    const consumer = await js.consumers.get(older.stream, older.durable);
    const first = (await consumer.next({ expires: 2_000 }))!;
    await first.ackAck();
    const before = await jsm.consumers.info(older.stream, older.durable);

    await provisionConsumer(jsm, renewed);
    const info = await jsm.consumers.info(renewed.stream, renewed.durable);
    expect(info.config.filter_subject).toBe(renewed.filterSubject);
    // Re-created, not updated in place (an updated filter stalls deliveries on nats-server 2.9): a new
    // consumer that starts right after the old one's ack floor.
    expect(info.created).not.toBe(before.created);
    expect(info.config.deliver_policy).toBe('by_start_sequence');
    expect(info.config.opt_start_seq).toBe(before.ack_floor.stream_seq + 1);
    // Nothing acknowledged is delivered again, nothing unacknowledged is lost, and delivery goes on at once.
    expect(info.num_pending).toBe(before.num_pending);
    expect(info.num_pending).toBeGreaterThanOrEqual(2);
    const again = await js.consumers.get(renewed.stream, renewed.durable);
    const next = (await again.next({ expires: 2_000 }))!;
    expect(next.seq).toBeGreaterThan(first.seq);
    next.ack();
  });
});
