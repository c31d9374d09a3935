import type { JetStreamClient, MsgHdrs } from 'nats';
import { deadLetterSubject, type DeadLetter } from '@troupe/contracts';
import { SchemaValidationError, TroupeError } from '@troupe/contracts';

/** What is known about a message that is being given up on. */
export interface DeadLetterInput {
  /** The consumer (or edge, e.g. `gateway`) that gives up; names the subject `troupe.dlq.<origin>`. */
  origin: string;
  stream: string | null;
  subject: string;
  streamSequence: number | null;
  deliveryCount: number;
  headers: MsgHdrs | undefined;
  data: Uint8Array;
  error: unknown;
}

function headersToRecord(hdrs: MsgHdrs | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (hdrs === undefined) return out;
  for (const key of hdrs.keys()) out[key] = hdrs.values(key);
  return out;
}

/** Builds the dead-letter document: where the message came from, why it failed, and its original bytes. */
export function buildDeadLetter(input: DeadLetterInput, now: Date): DeadLetter {
  const error = input.error;
  return {
    origin: {
      stream: input.stream,
      consumer: input.origin,
      subject: input.subject,
      streamSequence: input.streamSequence,
    },
    reason: error instanceof Error ? error.message : String(error),
    errorCode: error instanceof TroupeError ? error.code : 'HANDLER_FAILED',
    issues: error instanceof SchemaValidationError ? error.issues : [],
    deliveryCount: input.deliveryCount,
    headers: headersToRecord(input.headers),
    dataBase64: Buffer.from(input.data).toString('base64'),
    deadLetteredAt: now.toISOString(),
  };
}

/**
 * Publishes a dead letter to `troupe.dlq.<origin>` (stream DEAD_LETTERS) and waits for the stream's ack,
 * so the caller may term the original only once the dead letter is safe. Deduplicated by origin stream
 * and sequence when known.
 *
 * @throws Error from nats.js when the dead-letter stream does not take it (the caller must then nak, not term).
 */
export async function publishDeadLetter(js: JetStreamClient, input: DeadLetterInput, now: Date = new Date()): Promise<DeadLetter> {
  const letter = buildDeadLetter(input, now);
  const body = new TextEncoder().encode(JSON.stringify(letter));
  await js.publish(deadLetterSubject(input.origin), body, {
    ...(input.stream !== null && input.streamSequence !== null ? { msgID: `${input.stream}:${input.streamSequence}` } : {}),
  });
  return letter;
}
