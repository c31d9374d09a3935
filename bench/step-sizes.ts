import { ActorRuntime } from '@troupe/actor-runtime';
import { encodeEnvelope } from '@troupe/contracts';
import { benchWorkflow, bumpedEvent, openedEvent } from './bench-workflow';
import { DiscardingJournal, DiscardingSnapshotStore } from './test-doubles';

/** Bytes one durable step of the bench workflow writes, as UTF-8 JSON (what the embedded stores send). */
export interface StepSizes {
  /** The inbound event envelope. */
  eventBytes: number;
  /** The record persisted with snapshot + outbox + pending journal entry (the one KV write of a step). */
  persistBytes: number;
  /** The journal entry. */
  journalBytes: number;
  /** Each outbox message body (the effect, then the change-feed message). */
  outboxBytes: number[];
}

const byteLength = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

/**
 * Drives one bench workflow through its start event and `bumps` bumps in memory (test doubles, no I/O)
 * and returns the sizes written by the last step, the size of a step in the middle of the main bench.
 */
export async function measureStepSizes(bumps: number): Promise<StepSizes> {
  const sizes: StepSizes = { eventBytes: 0, persistBytes: 0, journalBytes: 0, outboxBytes: [] };
  const store = new DiscardingSnapshotStore((record) => {
    sizes.persistBytes = byteLength(record);
  });
  const journal = new DiscardingJournal((entry) => {
    sizes.journalBytes = byteLength(entry);
  });
  let lastVersionSeen = '';
  const runtime = new ActorRuntime({
    definitions: [benchWorkflow],
    store,
    journal,
    publish: async (message) => {
      const version = message.id.split(':')[1];
      if (version !== lastVersionSeen) sizes.outboxBytes = [];
      lastVersionSeen = version;
      sizes.outboxBytes.push(encodeEnvelope(message.envelope).byteLength);
    },
  });
  const workflowId = 'bench-size-probe';
  await runtime.handle(openedEvent(workflowId));
  for (let n = 1; n <= bumps; n += 1) await runtime.handle(bumpedEvent(workflowId, n));
  sizes.eventBytes = encodeEnvelope(bumpedEvent(workflowId, bumps)).byteLength;
  return sizes;
}
