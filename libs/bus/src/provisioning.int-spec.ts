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
