import { createInbox, Empty, ErrorCode, headers as natsHeaders, NatsError, type JetStreamClient, type JetStreamPublishOptions, type Msg, type NatsConnection, type Payload, type PubAck, type Subscription } from 'nats';

/**
 * What publishing to JetStream with the stream's ack needs: `JetStreamClient.publish` of nats.js, or
 * an {@link AckedPublisher}. `publishEnvelope` and the embedded stores take either.
 */
export type JetStreamPublish = Pick<JetStreamClient, 'publish'>;

/** Options of {@link AckedPublisher}. */
export interface AckedPublisherOptions {
  /** How long a publish waits for the stream's ack before it fails with a `TIMEOUT` NatsError (ms; default 5,000, as nats.js). */
  timeoutMs?: number;
  /** Prefix of the reply subject (default `_INBOX`, as nats.js); set it when the connection's `inboxPrefix` is. */
  inboxPrefix?: string;
}

/** Header names of a JetStream publish (nats.js `PubHeaders`, which nats.js does not export). */
const MSG_ID = 'Nats-Msg-Id';
const EXPECTED_STREAM = 'Nats-Expected-Stream';
const EXPECTED_LAST_SEQUENCE = 'Nats-Expected-Last-Sequence';
const EXPECTED_LAST_MSG_ID = 'Nats-Expected-Last-Msg-Id';
const EXPECTED_LAST_SUBJECT_SEQUENCE = 'Nats-Expected-Last-Subject-Sequence';

/** How often waiting publishes are checked against their deadline (ms). */
const SWEEP_MS = 250;

interface Waiting {
  resolve(ack: PubAck): void;
  reject(error: unknown): void;
  /** `Date.now()` after which the publish fails with a timeout (ms). */
  deadline: number;
}

/** The body of a JetStream publish reply: a `PubAck`, or an API error. */
interface PubAckReply {
  stream?: string;
  domain?: string;
  seq?: number;
  duplicate?: boolean;
  error?: { code: number; err_code?: number; description?: string };
}

const utf8 = new TextDecoder();

/**
 * Publishes to JetStream and resolves with the stream's `PubAck`, as nats.js `JetStreamClient.publish`
 * does (same options: `msgID`, `expect`, `headers`, `timeout`; `retries` is not supported), over one
 * reply subscription `<inbox>.*` of its own instead of nats.js's request multiplexer.
 *
 * Why: nats.js 2.29 `RequestOne.resolver` (lib/nats-base-client/request.js) settles a request's
 * promise and then calls `cancel()`, which builds `NatsError.errorForCode(ErrorCode.Cancelled)` (an
 * `Error` with its stack captured) to reject the already settled promise: one thrown-away error per
 * successful publish, i.e. per KV write and per journal or outbox publish, about 9 % of a durable
 * step's CPU in `npm run bench`. This class uses only the public API (`subscribe`, `publish` with a
 * reply subject) and builds an error only for a publish that fails. Timeouts are checked every 250 ms
 * (one interval while publishes wait) rather than one timer per publish.
 *
 * Errors have the shape nats.js gives them, so callers tell them apart the same way: a JetStream API
 * error is a `NatsError` with `api_error` (`{ code, err_code, description }`) and the description as
 * message; no stream on the subject is code `503` (`NO_RESPONDERS`); no ack in time is `TIMEOUT`; a
 * closed connection is `CONNECTION_CLOSED`.
 */
export class AckedPublisher implements JetStreamPublish {
  private readonly inbox: string;
  private readonly subscription: Subscription;
  private readonly waiting = new Map<string, Waiting>();
  private readonly timeoutMs: number;
  private nextToken = 0;
  private sweep: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly nats: NatsConnection,
    options: AckedPublisherOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.inbox = `${createInbox(options.inboxPrefix)}.`;
    this.subscription = nats.subscribe(`${this.inbox}*`, { callback: (error, message) => this.answer(error, message) });
    void nats.closed().then(() => this.failAll(NatsError.errorForCode(ErrorCode.ConnectionClosed)));
  }

  /**
   * Publishes `payload` to `subject` and waits for the stream's ack.
   *
   * @throws NatsError with `api_error` when JetStream refuses the message (e.g. `err_code` 10071, wrong
   *   last sequence, when `expect.lastSubjectSequence` does not hold); code `503` when no stream takes
   *   the subject; `TIMEOUT` when no ack comes within the timeout; `CONNECTION_CLOSED`.
   */
  publish(subject: string, payload: Payload = Empty, options: Partial<JetStreamPublishOptions> = {}): Promise<PubAck> {
    const headers = options.headers ?? natsHeaders();
    if (options.msgID) headers.set(MSG_ID, options.msgID);
    const expect = options.expect;
    if (expect !== undefined) {
      if (expect.lastMsgID) headers.set(EXPECTED_LAST_MSG_ID, expect.lastMsgID);
      if (expect.streamName) headers.set(EXPECTED_STREAM, expect.streamName);
      if (typeof expect.lastSequence === 'number') headers.set(EXPECTED_LAST_SEQUENCE, `${expect.lastSequence}`);
      if (typeof expect.lastSubjectSequence === 'number') headers.set(EXPECTED_LAST_SUBJECT_SEQUENCE, `${expect.lastSubjectSequence}`);
    }
    const token = (this.nextToken++).toString(36);
    return new Promise<PubAck>((resolve, reject) => {
      try {
        this.nats.publish(subject, payload, { reply: `${this.inbox}${token}`, headers });
      } catch (error) {
        reject(error);
        return;
      }
      this.waiting.set(token, { resolve, reject, deadline: Date.now() + (options.timeout ?? this.timeoutMs) });
      this.sweep ??= setInterval(() => this.expire(), SWEEP_MS).unref();
    });
  }

  /** Stops listening for acks; publishes still waiting fail with `CONNECTION_CLOSED`. */
  close(): void {
    this.subscription.unsubscribe();
    this.failAll(NatsError.errorForCode(ErrorCode.ConnectionClosed));
  }

  private answer(error: NatsError | null, message: Msg): void {
    if (error !== null) {
      this.failAll(error);
      return;
    }
    const token = message.subject.slice(this.inbox.length);
    const waiting = this.waiting.get(token);
    if (waiting === undefined) return; // timed out already
    this.waiting.delete(token);
    this.stopSweepWhenIdle();
    if (message.data.length === 0 && message.headers?.code === 503) {
      waiting.reject(NatsError.errorForCode(ErrorCode.NoResponders));
      return;
    }
    let reply: PubAckReply;
    try {
      reply = JSON.parse(utf8.decode(message.data)) as PubAckReply;
    } catch (parseError) {
      waiting.reject(NatsError.errorForCode(ErrorCode.BadJson, parseError as Error));
      return;
    }
    if (reply.error !== undefined) {
      // As nats.js `checkJsErrorCode` and `kv.put` present it: the description as message, the code as string.
      const apiError = new NatsError(reply.error.description ?? ErrorCode.Unknown, `${reply.error.code}`);
      apiError.api_error = { code: reply.error.code, err_code: reply.error.err_code ?? 0, description: reply.error.description ?? '' };
      waiting.reject(apiError);
      return;
    }
    if (reply.stream === undefined || reply.stream === '' || typeof reply.seq !== 'number') {
      waiting.reject(NatsError.errorForCode(ErrorCode.JetStreamInvalidAck));
      return;
    }
    waiting.resolve({ stream: reply.stream, seq: reply.seq, duplicate: reply.duplicate === true, ...(reply.domain !== undefined ? { domain: reply.domain } : {}) });
  }

  private expire(): void {
    const now = Date.now();
    for (const [token, waiting] of this.waiting) {
      if (waiting.deadline > now) continue;
      this.waiting.delete(token);
      waiting.reject(NatsError.errorForCode(ErrorCode.Timeout));
    }
    this.stopSweepWhenIdle();
  }

  private failAll(error: unknown): void {
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    this.stopSweepWhenIdle();
    for (const publish of waiting) publish.reject(error);
  }

  private stopSweepWhenIdle(): void {
    if (this.waiting.size === 0 && this.sweep !== null) {
      clearInterval(this.sweep);
      this.sweep = null;
    }
  }
}
