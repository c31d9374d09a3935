import { formatIssues, JournalEntry, journalArchiveSubject, journalSubject, SchemaValidationError, STREAMS, type StreamDefinition } from '@troupe/contracts';
import { nanos, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager, type NatsConnection } from 'nats';
import { checkWorkflowId, decodeStoredJson, encodeJson, isWorkflowId } from '../records';
import type { RetainableJournal } from '../types';
import { isStreamNotFound } from './jetstream-errors';

/** Options of {@link StreamJournal.open}. */
export interface StreamJournalOptions {
  /** A connection with JetStream enabled; the caller owns it (the journal never closes it). */
  nats: NatsConnection;
  /**
   * `archive`: the archive of journal entries moved out by retention (stream `STREAMS.journalArchive`,
   * subjects `journalArchiveSubject`) instead of the journal itself. Default `journal`.
   */
  role?: 'journal' | 'archive';
  /** What appends publish with: default `nats.jetstream()`; `AckedPublisher` of @troupe/bus on a hot path. */
  publisher?: Pick<JetStreamClient, 'publish'>;
}

/** Messages asked for per pull while reading a journal. */
const READ_BATCH = 256;

/** How long one pull waits for messages the stream said it holds before the read gives up on them. */
const READ_PULL_EXPIRES_MS = 5_000;

/**
 * {@link Journal} over the JetStream stream `STREAMS.journal` (the embedded default): one message per
 * entry on `journalSubject(workflowId)`, body = the entry as UTF-8 JSON.
 *
 * Appends carry `Nats-Msg-Id: <workflowId>:<seq>`, so a repeat inside the stream's duplicate window is
 * dropped by the server; a repeat after it is stored again and dropped on read (first `seq` wins).
 * Reads replay the workflow's subject with an ordered consumer.
 */
export class StreamJournal implements RetainableJournal {
  private constructor(
    private readonly js: JetStreamClient,
    private readonly publisher: Pick<JetStreamClient, 'publish'>,
    private readonly jsm: JetStreamManager,
    private readonly streamName: string,
    private readonly subjectOf: (workflowId: string) => string,
  ) {}

  /**
   * Opens the journal, adding the stream `STREAMS.journal` when missing (an existing stream, e.g. one
   * the bus provisioned, is used as it is).
   *
   * @throws NatsError when JetStream is unavailable or refuses the stream.
   */
  static async open(options: StreamJournalOptions): Promise<StreamJournal> {
    const jsm = await options.nats.jetstreamManager();
    const archive = options.role === 'archive';
    const stream = archive ? STREAMS.journalArchive : STREAMS.journal;
    await ensureStream(jsm, stream);
    const js = options.nats.jetstream();
    return new StreamJournal(js, options.publisher ?? js, jsm, stream.name, archive ? journalArchiveSubject : journalSubject);
  }

  /**
   * Removes every entry of `workflowId` (a purge of its subject) and returns how many messages went.
   *
   * @throws NatsError when JetStream refuses the purge.
   */
  async remove(workflowId: string): Promise<number> {
    if (!isWorkflowId(workflowId)) return 0;
    const { purged } = await this.jsm.streams.purge(this.streamName, { filter: this.subjectOf(workflowId) });
    return purged;
  }

  /**
   * Publishes `entry` to `journalSubject(entry.workflowId)`; a repeat of `(workflowId, seq)` is a no-op.
   *
   * @throws SchemaValidationError when `entry` is not a {@link JournalEntry}.
   * @throws NatsError when JetStream does not acknowledge the message.
   */
  async append(entry: JournalEntry): Promise<void> {
    const result = JournalEntry.safeParse(entry);
    if (!result.success) throw new SchemaValidationError('journal entry', formatIssues(result.error));
    checkWorkflowId(entry.workflowId);
    await this.publisher.publish(this.subjectOf(entry.workflowId), encodeJson(entry), {
      msgID: `${entry.workflowId}:${entry.seq}`,
      expect: { streamName: this.streamName },
    });
  }

  /**
   * Every entry of `workflowId` in `seq` order, each `seq` once (the first stored wins); [] for an
   * unknown workflow.
   *
   * @throws SchemaValidationError when a stored message is not a {@link JournalEntry} of this workflow.
   */
  async read(workflowId: string): Promise<JournalEntry[]> {
    if (!isWorkflowId(workflowId)) return [];
    const subject = this.subjectOf(workflowId);
    const consumer = await this.js.consumers.get(this.streamName, { filterSubjects: subject });
    const bySeq = new Map<number, JournalEntry>();
    try {
      // Creating the consumer reports how many messages it will deliver: nothing to wait for when 0.
      let pending = (await consumer.info()).num_pending;
      while (pending > 0) {
        let received = 0;
        const messages = await consumer.fetch({ max_messages: Math.min(pending, READ_BATCH), expires: READ_PULL_EXPIRES_MS });
        for await (const message of messages) {
          received += 1;
          pending = message.info.pending;
          const entry = parseJournalMessage(message.data, workflowId, message.seq);
          if (!bySeq.has(entry.seq)) bySeq.set(entry.seq, entry);
          if (pending === 0) break;
        }
        // A pull that brings nothing means the messages counted are gone (purged); stop, do not hang.
        if (received === 0) break;
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
    return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  }
}

/** Parses one journal message; the stream sequence names it in errors. */
function parseJournalMessage(data: Uint8Array, workflowId: string, streamSequence: number): JournalEntry {
  const what = `journal message ${streamSequence} of ${workflowId}`;
  const result = JournalEntry.safeParse(decodeStoredJson(data, what));
  if (!result.success) throw new SchemaValidationError(what, formatIssues(result.error));
  if (result.data.workflowId !== workflowId) {
    throw new SchemaValidationError(what, [`workflowId: is ${result.data.workflowId}, stored on the subject of ${workflowId}`]);
  }
  return result.data;
}

/**
 * Adds the stream `definition` unless a stream of that name exists (which is then left as it is).
 * File storage; `maxAgeMs` 0 means no age limit.
 *
 * @throws NatsError when the stream can neither be found nor added.
 */
export async function ensureStream(jsm: JetStreamManager, definition: StreamDefinition): Promise<void> {
  try {
    await jsm.streams.info(definition.name);
    return;
  } catch (error) {
    if (!isStreamNotFound(error)) throw error;
  }
  try {
    await jsm.streams.add({
      name: definition.name,
      subjects: [...definition.subjects],
      description: definition.description,
      retention: definition.retention === 'workqueue' ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: nanos(definition.maxAgeMs),
      duplicate_window: nanos(definition.duplicateWindowMs),
    });
  } catch (error) {
    // Another process may have added it between our look and our add; its stream is as good as ours.
    try {
      await jsm.streams.info(definition.name);
    } catch {
      throw error;
    }
  }
}
