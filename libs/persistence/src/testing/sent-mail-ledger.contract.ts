import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SentMailLedger } from '../types';
import { sampleSentMailRecord, uniqueWorkflowId } from './fixtures';

/** What a sent-mail ledger factory gives the contract suite: a ledger and how to dispose of it. */
export interface SentMailLedgerUnderTest {
  /** An empty ledger, not shared with any other call of the factory. */
  ledger: SentMailLedger;
  /** Closes what the factory opened and removes what the test wrote. */
  cleanup(): Promise<void>;
}

/**
 * Registers (with vitest `describe`/`it`) the behaviour every {@link SentMailLedger} adapter must show:
 * the first `recordOnce` of a key writes it, every later one (also concurrent ones) returns that first
 * record with `firstDelivery: false`, and `list` returns each record once. `factory` runs before every
 * test and must return an empty, isolated ledger.
 */
export function describeSentMailLedgerContract(name: string, factory: () => Promise<SentMailLedgerUnderTest>): void {
  describe(`SentMailLedger contract: ${name}`, () => {
    let ledger: SentMailLedger;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ ledger, cleanup } = await factory());
    });

    afterEach(async () => {
      await cleanup();
    });

    it('records a key the first time and returns the first record on every later delivery', async () => {
      const first = sampleSentMailRecord();
      expect(await ledger.recordOnce(first)).toEqual({ record: first, firstDelivery: true });
      const redelivered = { ...first, body: 'a different body', sentAt: '2025-02-02T00:00:00.000Z' };
      expect(await ledger.recordOnce(redelivered)).toEqual({ record: first, firstDelivery: false });
      expect(await ledger.recordOnce(first)).toEqual({ record: first, firstDelivery: false });
    });

    it('gives exactly one of several concurrent deliveries of a key the first delivery', async () => {
      const workflowId = uniqueWorkflowId();
      const candidates = [0, 1, 2, 3, 4].map((n) => sampleSentMailRecord({ workflowId, body: `attempt ${n}` }));
      const results = await Promise.all(candidates.map((candidate) => ledger.recordOnce(candidate)));
      const firsts = results.filter((result) => result.firstDelivery);
      expect(firsts).toHaveLength(1);
      for (const result of results) expect(result.record).toEqual(firsts[0].record);
      expect(await ledger.list()).toEqual([firsts[0].record]);
    });

    it('keeps keys that differ only in characters KV keys cannot hold apart', async () => {
      const workflowId = uniqueWorkflowId();
      const keys = [`${workflowId}:1:0`, `${workflowId}.1.0`, `${workflowId}:1:0 `, `${workflowId}/ü:1:0`, `${workflowId}_1_0`];
      for (const idempotencyKey of keys) {
        expect((await ledger.recordOnce(sampleSentMailRecord({ workflowId, idempotencyKey }))).firstDelivery).toBe(true);
      }
      expect((await ledger.list()).map((record) => record.idempotencyKey).sort()).toEqual([...keys].sort());
    });

    it('lists every recorded reply once', async () => {
      expect(await ledger.list()).toEqual([]);
      const records = [1, 2, 3].map(() => sampleSentMailRecord());
      for (const record of records) await ledger.recordOnce(record);
      await ledger.recordOnce({ ...records[0], body: 'again' });
      const listed = await ledger.list();
      expect(listed).toHaveLength(3);
      expect(listed).toEqual(expect.arrayContaining(records));
    });
  });
}
