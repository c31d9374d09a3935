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

/**
 * Most bytes of the original body a dead letter keeps (256 KiB). A dead letter carries the body in
 * base64 (4/3 of its size) plus the reason and headers, so a body near the server's max_payload (1 MiB
 * by default) would make a dead letter the stream cannot take, and the consumer would retry it forever.
 */
export const DEAD_LETTER_MAX_DATA_BYTES = 256 * 1_024;
/** Most characters of a reason, and of each issue, a dead letter keeps. */
const MAX_REASON_CHARS = 8_192;
const MAX_ISSUES = 50;

const clip = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`);

/**
 * Builds the dead-letter document: where the message came from, why it failed, and its original bytes
 * (at most {@link DEAD_LETTER_MAX_DATA_BYTES}, with `dataTruncated` when cut; reason and issues clipped).
 */
export function buildDeadLetter(input: DeadLetterInput, now: Date): DeadLetter {
  const error = input.error;
  const truncated = input.data.byteLength > DEAD_LETTER_MAX_DATA_BYTES;
  const issues = error instanceof SchemaValidationError ? error.issues : [];
  return {
    origin: {
      stream: input.stream,
      consumer: input.origin,
      subject: input.subject,
      streamSequence: input.streamSequence,
    },
    reason: clip(error instanceof Error ? error.message : String(error), MAX_REASON_CHARS),
    errorCode: error instanceof TroupeError ? error.code : 'HANDLER_FAILED',
    issues: [...issues.slice(0, MAX_ISSUES).map((issue) => clip(issue, 1_024)), ...(issues.length > MAX_ISSUES ? [`… ${issues.length - MAX_ISSUES} more issues`] : [])],
    deliveryCount: input.deliveryCount,
    headers: headersToRecord(input.headers),
    dataBase64: Buffer.from(truncated ? input.data.subarray(0, DEAD_LETTER_MAX_DATA_BYTES) : input.data).toString('base64'),
    dataBytes: input.data.byteLength,
    ...(truncated ? { dataTruncated: true } : {}),
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
