import { headers as natsHeaders, type MsgHdrs, type PubAck } from 'nats';
import { encodeEnvelope, type Envelope } from '@troupe/contracts';
import { injectTraceContext, withPublishSpan, type Link } from '@troupe/telemetry';
import type { JetStreamPublish } from './acked-publisher';

/** Header naming the envelope type, so tools can filter without parsing the body. */
export const TYPE_HEADER = 'Troupe-Type';

/** Options of one publish. `msgId` becomes `Nats-Msg-Id` (JetStream drops a repeat within the stream's duplicate window). */
export interface PublishOptions {
  msgId?: string;
  headers?: Record<string, string>;
  /** Expected stream name; the publish fails if the subject lands elsewhere. */
  expectedStream?: string;
  /** Span links of the PRODUCER span: spans of other traces the publish is caused by (see `withTraceParent`). */
  links?: Link[];
}

/**
 * Publishes an envelope to JetStream and waits for the stream's ack (at-least-once into the stream),
 * inside a PRODUCER span `send <subject>` whose W3C trace context (`traceparent`, `tracestate`,
 * `baggage`) goes into the message headers, so the consumer's span continues the trace.
 *
 * `js` is nats.js's `JetStreamClient` or an {@link AckedPublisher} (the cheaper one on a hot path).
 *
 * @throws Error from nats.js when no stream takes the subject (503 "no responders") or the ack times out.
 */
export async function publishEnvelope(
  js: JetStreamPublish,
  subject: string,
  envelope: Envelope,
  options: PublishOptions = {},
): Promise<PubAck> {
  return withPublishSpan({ subject, messageId: envelope.id, envelopeType: envelope.type, workflowId: envelope.workflowId, links: options.links }, () => {
    const hdrs: MsgHdrs = natsHeaders();
    hdrs.set(TYPE_HEADER, envelope.type);
    for (const [key, value] of Object.entries(options.headers ?? {})) hdrs.set(key, value);
    injectTraceContext(hdrs);
    return js.publish(subject, encodeEnvelope(envelope), {
      headers: hdrs,
      ...(options.msgId !== undefined ? { msgID: options.msgId } : {}),
      ...(options.expectedStream !== undefined ? { expect: { streamName: options.expectedStream } } : {}),
    });
  });
}
