import { headers as natsHeaders, type JsMsg, type MsgHdrs, type NatsConnection, type PubAck } from 'nats';
import {
  ALL_DEAD_LETTERS,
  DeadLetter,
  ORCHESTRATOR_CONSUMER,
  REPLY_SEND,
  STREAMS,
  TIMER_CONSUMER,
  TRIAGE_AGENTS,
  TroupeError,
  agentConsumer,
  agentTaskSubject,
  deadLetterSubject,
  effectConsumer,
  effectSubject,
  eventTypeOfWorkflowSubject,
  formatIssues,
} from '@troupe/contracts';

/**
 * Header set on a replayed message: `DEAD_LETTERS:<sequence>` of the dead letter it came from, so the
 * origin stream keeps the provenance after the dead letter itself is removed.
 */
export const REPLAY_OF_HEADER = 'Troupe-Replay-Of';

/** Default and largest page of {@link listDeadLetters}. */
export const DEAD_LETTER_PAGE = { defaultLimit: 100, maxLimit: 1_000 } as const;

/** How long one pull of {@link listDeadLetters} waits for messages the server said are pending, ms. */
const PULL_EXPIRES_MS = 5_000;

/** Base of the errors of listing and replaying dead letters; `code` is stable. */
export class DeadLetterError extends TroupeError {}

/** No dead letter at that sequence of DEAD_LETTERS: never written, already replayed, or aged out. Not retryable. */
export class DeadLetterNotFoundError extends DeadLetterError {
  readonly sequence: number;

  constructor(sequence: number, options: { cause?: unknown } = {}) {
    super('DEAD_LETTER_NOT_FOUND', `no dead letter at sequence ${sequence} of ${STREAMS.deadLetters.name} (never written, already replayed, or expired)`, {
      retryable: false,
      cause: options.cause,
    });
    this.sequence = sequence;
  }
}

/**
 * A message in DEAD_LETTERS is not a {@link DeadLetter} (not JSON, or failing the schema). Only
 * `publishDeadLetter` writes there, so this is a bug to look at; list past it with
 * `afterSequence: sequence`. Not retryable.
 */
export class DeadLetterUnreadableError extends DeadLetterError {
  readonly sequence: number;
  /** One line per problem: `path: message`. */
  readonly issues: string[];

  constructor(sequence: number, issues: string[]) {
    super('DEAD_LETTER_UNREADABLE', `message ${sequence} of ${STREAMS.deadLetters.name} is not a dead letter: ${issues.join('; ')}`, {
      retryable: false,
    });
    this.sequence = sequence;
    this.issues = issues;
  }
}

/** The options of {@link listDeadLetters} are out of range. Not retryable. */
export class DeadLetterQueryError extends DeadLetterError {
  constructor(message: string) {
    super('DEAD_LETTER_QUERY_INVALID', message, { retryable: false });
  }
}

/**
 * A replay did not complete. `DEAD_LETTER_REPLAY_FAILED`: the origin stream did not ack the republished
 * message, so nothing was replayed and the dead letter is kept. `DEAD_LETTER_NOT_REMOVED`: the message
 * was republished and acked (see `replayed`) but the dead letter could not be deleted; replaying it
 * again within the origin stream's duplicate window is deduplicated. Both retryable.
 */
export class DeadLetterReplayError extends DeadLetterError {
  readonly sequence: number;
  /** The origin stream's ack when the republish succeeded (`DEAD_LETTER_NOT_REMOVED`), else null. */
  readonly replayed: PubAck | null;

  constructor(code: 'DEAD_LETTER_REPLAY_FAILED' | 'DEAD_LETTER_NOT_REMOVED', sequence: number, message: string, options: { replayed?: PubAck; cause: unknown }) {
    super(code, message, { retryable: true, cause: options.cause });
    this.sequence = sequence;
    this.replayed = options.replayed ?? null;
  }
}

/** The dead letter kept only the start of its message (it was too big), so replaying it would publish a different message. Not retryable. */
export class DeadLetterTruncatedError extends DeadLetterError {
  constructor(sequence: number, bytes: number | undefined) {
    super('DEAD_LETTER_TRUNCATED', `dead letter ${sequence} kept only the first bytes of its ${bytes ?? '?'}-byte message; it cannot be replayed`, { retryable: false });
  }
}

/**
 * A dead letter whose claimed origin does not fit where it is stored or what it would replay: stored on
 * `troupe.dlq.<a>` while naming consumer `<b>`, or naming a consumer that never consumes its original
 * subject (the agents' consumer cannot have refused a workflow event). A user allowed to write dead
 * letters of its own consumers could otherwise forge one and have an operator's replay publish it with
 * the gateway's rights. Not retryable.
 */
export class DeadLetterOriginMismatchError extends DeadLetterError {
  constructor(sequence: number, detail: string) {
    super('DEAD_LETTER_ORIGIN_MISMATCH', `dead letter ${sequence} cannot be replayed: ${detail}`, { retryable: false });
  }
}

/**
 * Why the dead letter stored on `storedSubject` may not be replayed to its original subject, or null:
 * it must be stored on `troupe.dlq.<its consumer>`, and Troupe's own consumers (`orchestrator`,
 * `orchestrator-p<n>`, `orchestrator-timers`, the triage agents' `agent-<name>`, `effect-reply-send`) only
 * replay to the subjects they consume; other origins are not checked.
 */
export function deadLetterOriginMismatch(storedSubject: string, deadLetter: DeadLetter): string | null {
  const consumer = deadLetter.origin.consumer;
  if (consumer === null) return null;
  if (storedSubject !== deadLetterSubject(consumer)) return `stored on ${storedSubject} but names consumer ${consumer}`;
  const subject = deadLetter.origin.subject;
  const agent = Object.values(TRIAGE_AGENTS).find((candidate) => agentConsumer(candidate.agent).durable === consumer);
  const consumes =
    consumer === TIMER_CONSUMER.durable
      ? /^troupe\.timer\.\d+$/.test(subject)
      : consumer === ORCHESTRATOR_CONSUMER.durable || /^orchestrator-p\d+$/.test(consumer)
        ? eventTypeOfWorkflowSubject(subject) !== null || /^troupe\.wf\.\d+\.[A-Za-z0-9_-]+$/.test(subject)
        : agent !== undefined
          ? subject === agentTaskSubject(agent.agent)
          : consumer === effectConsumer(REPLY_SEND).durable
            ? subject === effectSubject(REPLY_SEND)
            : true;
  return consumes ? null : `consumer ${consumer} does not consume ${subject}`;
}

/** What to list. */
export interface ListDeadLettersOptions {
  /** Only the dead letters of this consumer (or edge): subject `troupe.dlq.<origin>`. Default: every origin. */
  origin?: string;
  /** At most this many entries, 1 to 1,000 (default 100). */
  limit?: number;
  /** Only entries with a DEAD_LETTERS sequence greater than this (default 0: from the start). Page on with the last sequence seen. */
  afterSequence?: number;
}

/** One dead letter as stored in DEAD_LETTERS. */
export interface StoredDeadLetter {
  /** Its sequence in the DEAD_LETTERS stream: the id to replay it by. */
  sequence: number;
  /** `troupe.dlq.<origin>`. */
  subject: string;
  deadLetter: DeadLetter;
}

/** What {@link replayDeadLetter} did. */
export interface DeadLetterReplay {
  /** The replayed dead letter's sequence in DEAD_LETTERS (now deleted from it). */
  sequence: number;
  /** The dead letter as it was before removal (for the caller's audit log). */
  deadLetter: DeadLetter;
  /** The subject the original bytes were republished to (the original subject). */
  subject: string;
  /** The `Nats-Msg-Id` of the republished message: `replay:DEAD_LETTERS:<sequence>`. */
  msgId: string;
  /** The stream that stored the republished message and its sequence there. */
  stream: string;
  streamSequence: number;
  /**
   * True when the stream already held a message with `msgId` (a repeated or concurrent replay within
   * the stream's duplicate window): nothing new was delivered by this call.
   */
  duplicate: boolean;
}

/**
 * Lists dead letters from the DEAD_LETTERS stream, oldest first, through an ordered consumer filtered
 * to `troupe.dlq.<origin>` (or every origin). Reads what was stored when the call started; stops when
 * the server reports nothing more pending or `limit` is reached.
 *
 * A single filter subject is passed (not an array): nats-server 2.9 has no `filter_subjects`.
 *
 * @throws DeadLetterQueryError when `limit` or `afterSequence` is out of range.
 * @throws DeadLetterUnreadableError when a stored message is not a dead letter (list on with `afterSequence`).
 * @throws Error from nats.js when JetStream does not answer or DEAD_LETTERS does not exist.
 */
export async function listDeadLetters(nats: NatsConnection, options: ListDeadLettersOptions = {}): Promise<StoredDeadLetter[]> {
  const limit = options.limit ?? DEAD_LETTER_PAGE.defaultLimit;
  const afterSequence = options.afterSequence ?? 0;
  if (!Number.isInteger(limit) || limit < 1 || limit > DEAD_LETTER_PAGE.maxLimit) {
    throw new DeadLetterQueryError(`limit must be an integer from 1 to ${DEAD_LETTER_PAGE.maxLimit}, got ${limit}`);
  }
  if (!Number.isInteger(afterSequence) || afterSequence < 0) {
    throw new DeadLetterQueryError(`afterSequence must be a non-negative integer, got ${afterSequence}`);
  }
  if (options.origin !== undefined && options.origin.trim() === '') {
    throw new DeadLetterQueryError('origin must not be empty');
  }
  // Also fails clearly ("stream not found") when DEAD_LETTERS was never provisioned.
  const { state } = await (await nats.jetstreamManager()).streams.info(STREAMS.deadLetters.name);
  if (state.messages === 0 || state.last_seq <= afterSequence) return [];
  const consumer = await nats.jetstream().consumers.get(STREAMS.deadLetters.name, {
    filterSubjects: options.origin === undefined ? ALL_DEAD_LETTERS : deadLetterSubject(options.origin),
    ...(afterSequence > 0 ? { opt_start_seq: afterSequence + 1 } : {}),
  });
  const entries: StoredDeadLetter[] = [];
  try {
    // info() creates the consumer; its num_pending says whether a pull would ever be answered.
    if ((await consumer.info()).num_pending === 0) return entries;
    for (;;) {
      let received = 0;
      let drained = false;
      const messages = await consumer.fetch({ max_messages: limit - entries.length, expires: PULL_EXPIRES_MS });
      for await (const message of messages) {
        received += 1;
        entries.push(readStoredDeadLetter(message));
        if (message.info.pending === 0 || entries.length >= limit) {
          drained = true;
          break;
        }
      }
      // A pull that brought nothing means what was pending is gone (replayed or expired meanwhile).
      if (drained || received === 0 || entries.length >= limit) return entries;
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
}

function readStoredDeadLetter(message: JsMsg): StoredDeadLetter {
  return {
    sequence: message.info.streamSequence,
    subject: message.subject,
    deadLetter: parseDeadLetter(message.info.streamSequence, message.data),
  };
}

function parseDeadLetter(sequence: number, data: Uint8Array): DeadLetter {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(data));
  } catch (error) {
    throw new DeadLetterUnreadableError(sequence, [`(root): not JSON (${(error as Error).message})`]);
  }
  const parsed = DeadLetter.safeParse(body);
  if (!parsed.success) throw new DeadLetterUnreadableError(sequence, formatIssues(parsed.error));
  return parsed.data;
}

/**
 * Replays one dead letter: republishes its original bytes and headers to its original subject, then
 * deletes it from DEAD_LETTERS. The replay is recorded by that deletion (a replayed dead letter is no
 * longer listed) and by the `Troupe-Replay-Of` header on the republished message; the caller gets the
 * dead letter back to log.
 *
 * Order, so nothing is lost: the dead letter is deleted only after the origin stream acked the
 * republish. Headers starting with `Nats-` (the old `Nats-Msg-Id`, expectations, rollups) are dropped;
 * the new `Nats-Msg-Id` is `replay:DEAD_LETTERS:<sequence>`, so a second replay within the origin
 * stream's duplicate window (after a crash between ack and delete, or a concurrent call) is
 * deduplicated by JetStream, and one after the delete is refused with `DEAD_LETTER_NOT_FOUND`. When
 * the origin stream is known, the publish must land in it (`Nats-Expected-Stream`).
 *
 * The republished message goes to every consumer of the origin stream whose filter matches, not only
 * to the consumer that gave up on it.
 *
 * @throws DeadLetterNotFoundError when no dead letter has that sequence (never written, already replayed, expired).
 * @throws DeadLetterUnreadableError when the stored message is not a dead letter.
 * @throws DeadLetterTruncatedError when the dead letter kept only the start of its message.
 * @throws DeadLetterOriginMismatchError when its claimed origin does not fit (see {@link deadLetterOriginMismatch}).
 * @throws DeadLetterReplayError `DEAD_LETTER_REPLAY_FAILED` when the origin stream did not ack (dead letter kept),
 *   `DEAD_LETTER_NOT_REMOVED` when it acked but the delete failed.
 */
export async function replayDeadLetter(nats: NatsConnection, sequence: number): Promise<DeadLetterReplay> {
  if (!Number.isInteger(sequence) || sequence < 1) throw new DeadLetterNotFoundError(sequence);
  const stream = STREAMS.deadLetters.name;
  const jsm = await nats.jetstreamManager();
  let data: Uint8Array;
  let storedSubject: string;
  try {
    const stored = await jsm.streams.getMessage(stream, { seq: sequence });
    data = stored.data;
    storedSubject = stored.subject;
  } catch (error) {
    if (isNoMessage(error)) throw new DeadLetterNotFoundError(sequence, { cause: error });
    throw error;
  }
  const deadLetter = parseDeadLetter(sequence, data);
  if (deadLetter.dataTruncated === true) throw new DeadLetterTruncatedError(sequence, deadLetter.dataBytes);
  const mismatch = deadLetterOriginMismatch(storedSubject, deadLetter);
  if (mismatch !== null) throw new DeadLetterOriginMismatchError(sequence, mismatch);
  const msgId = `replay:${stream}:${sequence}`;
  const hdrs = replayHeaders(deadLetter.headers, `${stream}:${sequence}`);
  let ack: PubAck;
  try {
    ack = await nats.jetstream().publish(deadLetter.origin.subject, Buffer.from(deadLetter.dataBase64, 'base64'), {
      headers: hdrs,
      msgID: msgId,
      ...(deadLetter.origin.stream !== null ? { expect: { streamName: deadLetter.origin.stream } } : {}),
    });
  } catch (error) {
    throw new DeadLetterReplayError(
      'DEAD_LETTER_REPLAY_FAILED',
      sequence,
      `dead letter ${sequence}: republishing to ${deadLetter.origin.subject} failed, dead letter kept: ${(error as Error).message}`,
      { cause: error },
    );
  }
  try {
    await jsm.streams.deleteMessage(stream, sequence, false);
  } catch (error) {
    // A concurrent replay of the same dead letter deleted it first: the goal is reached.
    if (!isNoMessage(error)) {
      throw new DeadLetterReplayError(
        'DEAD_LETTER_NOT_REMOVED',
        sequence,
        `dead letter ${sequence}: republished to ${ack.stream} #${ack.seq} but not removed: ${(error as Error).message}`,
        { replayed: ack, cause: error },
      );
    }
  }
  return { sequence, deadLetter, subject: deadLetter.origin.subject, msgId, stream: ack.stream, streamSequence: ack.seq, duplicate: ack.duplicate };
}

function replayHeaders(original: Record<string, string[]>, replayOf: string): MsgHdrs {
  const hdrs = natsHeaders();
  for (const [key, values] of Object.entries(original)) {
    // JetStream control headers would dedupe against the original, fail an old expectation, or roll up.
    if (/^nats-/i.test(key) || key.toLowerCase() === REPLAY_OF_HEADER.toLowerCase()) continue;
    for (const value of values) hdrs.append(key, value);
  }
  hdrs.set(REPLAY_OF_HEADER, replayOf);
  return hdrs;
}

/**
 * JetStream's answer for a sequence that is not (or no longer) stored: get says "no message found"
 * (API error 10037); delete says "no message found" or "sequence <n> not found" (10057, by store state).
 */
function isNoMessage(error: unknown): boolean {
  const apiError = (error as { api_error?: { err_code?: number } } | null)?.api_error;
  return apiError?.err_code === 10037 || /no message found|sequence \d+ not found/i.test(String((error as Error | null)?.message ?? error));
}
