import type { OutboxPublisher } from '@troupe/actor-runtime';
import type { Journal, SnapshotStore } from '@troupe/persistence';

/**
 * Changes to the durable step the bench can try without touching `libs/actor-runtime` or `libs/bus`: by
 * wrapping the store, journal and publisher the runtime gets, the ack of each message, or the NATS
 * connection. Each one estimates what the same change in the library would pay; none is meant to be
 * used as a wrapper, so they exist only here.
 */
export interface WhatIf {
  /**
   * Drop the second KV write of each step (the one that clears outbox and pending journal at the same
   * version). With `KvSnapshotStore` the next save still finds the revision it needs in its cache.
   */
  skipClearWrite: boolean;
  /**
   * Append the journal entry concurrently with the outbox publishes instead of before them: `append`
   * returns at once and each publish of that workflow waits for both its own ack and the journal's.
   */
  journalParallel: boolean;
  /**
   * Ack with `ack()` and go on, instead of `ackAck()` waiting for the server's confirmation (a change to
   * `JetStreamServer`; a lost ack means a redelivery, which the applied-ids window turns into a
   * duplicate). Applied by the {@link StepProbe}, which already taps each message's ack.
   */
  fireAndForgetAck: boolean;
  /**
   * A NATS connection with `noAsyncTraces: true` (a change to `connectToNats`): nats.js then stops
   * allocating an `Error` per request to keep the caller's stack for a timeout. Applied by main.ts, which
   * hands the run such a connection.
   */
  noAsyncTraces: boolean;
}

export const NO_WHAT_IF: WhatIf = { skipClearWrite: false, journalParallel: false, fireAndForgetAck: false, noAsyncTraces: false };

/** Names a what-if for tables, e.g. `no clear-outbox write + journal ‖ publish`. */
export function whatIfName(whatIf: WhatIf): string {
  const parts = [
    whatIf.skipClearWrite ? 'no clear-outbox write' : '',
    whatIf.journalParallel ? 'journal ‖ publish' : '',
    whatIf.fireAndForgetAck ? 'ack() not ackAck()' : '',
    whatIf.noAsyncTraces ? 'nats noAsyncTraces' : '',
  ].filter((p) => p !== '');
  return parts.length === 0 ? 'as is' : parts.join(' + ');
}

/** The runtime's dependencies with `whatIf` applied. */
export function applyWhatIf(
  deps: { store: SnapshotStore; journal: Journal; publish: OutboxPublisher },
  whatIf: WhatIf,
): { store: SnapshotStore; journal: Journal; publish: OutboxPublisher } {
  let { store, journal, publish } = deps;
  if (whatIf.skipClearWrite) {
    const inner = store;
    store = {
      load: (workflowId) => inner.load(workflowId),
      list: (query) => inner.list(query),
      save: async (record, expectedVersion) => {
        const clearing = record.version === expectedVersion && record.outbox.length === 0 && record.pendingJournal.length === 0;
        if (!clearing) await inner.save(record, expectedVersion);
      },
    };
  }
  if (whatIf.journalParallel) {
    const inner = journal;
    const innerPublish = publish;
    const appending = new Map<string, Promise<void>>();
    journal = {
      read: (workflowId) => inner.read(workflowId),
      append: async (entry) => {
        const appended = inner.append(entry);
        appended.catch(() => undefined);
        appending.set(entry.workflowId, appended);
      },
    };
    publish = async (message) => {
      await Promise.all([innerPublish(message), appending.get(message.envelope.workflowId)]);
    };
  }
  return { store, journal, publish };
}
