import { Logger } from '@nestjs/common';
import {
  EFFECT_FAILED,
  effectResultEventId,
  isNonRetryable,
  workflowEventTypeSubject,
  type EffectFailed,
  type Envelope,
} from '@troupe/contracts';
import { TROUPE_ATTRIBUTES, markActiveSpanFailed, setSpanAttributes, withSpan } from '@troupe/telemetry';
import type { JetStreamClient } from 'nats';
import type { JetStreamContext } from './jetstream.server';
import { publishEnvelope } from './publisher';

/** The event an effect handler answers with: its type and payload (validated by the workflow). */
export interface EffectResult {
  type: string;
  payload: unknown;
}

/**
 * Runs one effect for a workflow and publishes its result as an event into that workflow, with the
 * deterministic id `<effectId>:result` (also the `Nats-Msg-Id`), so a redelivered effect message yields
 * the same event and the workflow applies it once.
 *
 * When `execute` fails with a non-retryable error, or on the consumer's last allowed delivery, the
 * workflow is told with an `effect.failed` event (the reason is journaled there) and the message is
 * acked. A retryable failure before that is rethrown, so the transport naks with backoff. Input that
 * fails its schema should be checked before calling this (the transport dead-letters it).
 *
 * Runs inside a span `effect <kind>` (effect id and kind, source, workflow id, delivery count and
 * outcome), so the work, a model call for instance, and the result's publish are its children.
 */
export async function runEffect(
  js: JetStreamClient,
  request: { envelope: Envelope; context: JetStreamContext; effectId: string; kind: string; source: string },
  execute: () => Promise<EffectResult>,
): Promise<'completed' | 'failed'> {
  const { envelope, context, effectId, kind, source } = request;
  return withSpan(`effect ${kind}`, {}, async (span) => {
    setSpanAttributes(span, () => ({
      [TROUPE_ATTRIBUTES.effectId]: effectId,
      [TROUPE_ATTRIBUTES.effectKind]: kind,
      [TROUPE_ATTRIBUTES.effectSource]: source,
      [TROUPE_ATTRIBUTES.workflowId]: envelope.workflowId,
      [TROUPE_ATTRIBUTES.deliveryCount]: context.deliveryCount,
    }));
    const outcome = await executeAndPublish(js, request, execute);
    span.setAttribute(TROUPE_ATTRIBUTES.effectOutcome, outcome);
    return outcome;
  });
}

async function executeAndPublish(
  js: JetStreamClient,
  request: { envelope: Envelope; context: JetStreamContext; effectId: string; kind: string; source: string },
  execute: () => Promise<EffectResult>,
): Promise<'completed' | 'failed'> {
  const { envelope, context, effectId, kind, source } = request;
  let result: EffectResult;
  try {
    result = await execute();
  } catch (error) {
    const lastDelivery = context.deliveryCount >= context.consumer.maxDeliver;
    if (!isNonRetryable(error) && !lastDelivery) throw error;
    markActiveSpanFailed(error);
    const failed: EffectFailed = {
      effectId,
      kind,
      reason: `${error instanceof Error ? error.message : String(error)} (delivery ${context.deliveryCount}/${context.consumer.maxDeliver})`,
    };
    new Logger(source).warn(`effect ${effectId} failed for good: ${failed.reason}`);
    result = { type: EFFECT_FAILED, payload: failed };
  }
  const id = effectResultEventId(effectId);
  await publishEnvelope(
    js,
    workflowEventTypeSubject(envelope.workflowId, result.type),
    {
      id,
      type: result.type,
      workflowId: envelope.workflowId,
      correlationId: envelope.correlationId,
      causationId: envelope.id,
      occurredAt: new Date().toISOString(),
      source,
      payload: result.payload,
    },
    { msgId: id },
  );
  return result.type === EFFECT_FAILED ? 'failed' : 'completed';
}
