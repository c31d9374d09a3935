import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer, type NatsServerHandle } from '@troupe/testing';
import { ClaimNotificationRecord, KvOnceLedger } from './claim-ledgers';

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

const record = (idempotencyKey: string, subject: string): ClaimNotificationRecord => ({
  idempotencyKey,
  workflowId: 'claim-1',
  claimId: 'CLM-1',
  to: 'ann@example.org',
  subject,
  body: 'Dear Ann',
  notifiedAt: '2026-03-01T00:00:00.000Z',
});

describe('KvOnceLedger on JetStream KV', () => {
  it('keeps the first record of a key and returns it to a redelivery', async () => {
    const ledger = await KvOnceLedger.open(nats, `claims_${randomUUID().replace(/-/g, '')}`, ClaimNotificationRecord);
    expect(await ledger.recordOnce(record('claim-1:7:0', 'first'))).toEqual({ record: record('claim-1:7:0', 'first'), firstDelivery: true });
    expect(await ledger.recordOnce(record('claim-1:7:0', 'second'))).toEqual({ record: record('claim-1:7:0', 'first'), firstDelivery: false });
    expect(await ledger.list()).toEqual([record('claim-1:7:0', 'first')]);
  });

  it('lets exactly one of concurrent deliveries of a key write', async () => {
    const ledger = await KvOnceLedger.open(nats, `claims_${randomUUID().replace(/-/g, '')}`, ClaimNotificationRecord);
    const results = await Promise.all(Array.from({ length: 8 }, (_, n) => ledger.recordOnce(record('claim-2:3:0', `delivery ${n}`))));
    expect(results.filter((result) => result.firstDelivery)).toHaveLength(1);
    expect(new Set(results.map((result) => result.record.subject)).size).toBe(1);
    expect(await ledger.list()).toHaveLength(1);
  });
});
