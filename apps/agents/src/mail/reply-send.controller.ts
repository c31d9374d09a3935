import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { JetStreamContext, runEffect } from '@troupe/bus';
import { REPLY_SEND, REPLY_SENT, ReplySendRequested, effectSubject, parseOrThrow, type Envelope, type ReplySent } from '@troupe/contracts';
import type { SentMailLedger } from '@troupe/persistence';
import type { JetStreamClient } from 'nats';
import { JETSTREAM } from '../tasks/agent-tasks.controller';

/** Injection token of the sent-mail ledger. */
export const SENT_MAIL_LEDGER = Symbol('SENT_MAIL_LEDGER');

/**
 * The reply-send effect. Troupe does not speak SMTP: "sending" records the reply in the sent-mail
 * ledger under its idempotency key, at most once, and answers `reply.sent`. A redelivered send finds
 * the first record and answers with it (`firstDelivery: false`), so no reply is ever sent twice.
 */
@Controller()
export class ReplySendController {
  constructor(
    @Inject(SENT_MAIL_LEDGER) private readonly ledger: SentMailLedger,
    @Inject(JETSTREAM) private readonly js: JetStreamClient,
  ) {}

  @EventPattern(effectSubject(REPLY_SEND))
  send(@Payload() envelope: Envelope, @Ctx() context: JetStreamContext): Promise<string> {
    const request = parseOrThrow(ReplySendRequested, envelope.payload, `${envelope.type} payload`);
    return runEffect(this.js, { envelope, context, effectId: request.effectId, kind: REPLY_SEND, source: 'agents/mail' }, async () => {
      const { record, firstDelivery } = await this.ledger.recordOnce({
        idempotencyKey: request.effectId,
        workflowId: envelope.workflowId,
        to: request.to,
        subject: request.subject,
        body: request.body,
        inReplyTo: request.inReplyTo,
        sentAt: new Date().toISOString(),
      });
      const sent: ReplySent = { idempotencyKey: record.idempotencyKey, sentAt: record.sentAt, firstDelivery };
      return { type: REPLY_SENT, payload: sent };
    });
  }
}
