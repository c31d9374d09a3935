import { Controller, Headers, Inject, Logger, Param, Query, ServiceUnavailableException, Sse, SseSignal, type MessageEvent } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiProduces, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { DeliverPolicy, type Consumer, type ConsumerMessages, type JsMsg } from 'nats';
import { Observable } from 'rxjs';
import { z } from 'zod';
import {
  ALL_WORKFLOW_CHANGES,
  FeedLastEventId,
  STREAMS,
  WORKFLOW_CHANGED,
  WorkflowChanged,
  WorkflowId,
  decodeEnvelope,
  formatIssues,
  workflowChangedSubject,
  type WorkflowChangedEvent,
} from '@troupe/contracts';
import { ApiKeyInQuery, READ_ROLES, Roles } from '../auth/roles.decorator';
import { ProblemResponses, ZodParam } from '../http/openapi';
import { ZodValidationPipe } from '../http/zod-validation.pipe';
import { GATEWAY_PORTS, type GatewayPorts } from '../ports';

/** The server removes a feed's ordered consumer this long (ms) after its client stopped pulling, if the gateway could not delete it. */
const ORDERED_CONSUMER_INACTIVE_MS = 30_000;

/** An absent or empty `Last-Event-ID` (EventSource sends none before its first event) means "from now". */
const ResumePoint = z.preprocess((value) => (value === '' ? undefined : value), FeedLastEventId.optional());

/** Nest's `@Headers()` takes no pipe: the handlers parse the header with this one. */
const LAST_EVENT_ID_HEADER = new ZodValidationPipe(ResumePoint, 'Last-Event-ID header');

const LAST_EVENT_ID_DOC = {
  name: 'Last-Event-ID',
  required: false,
  description: "resume after this event id (a WF_CHANGES stream sequence); EventSource sends it when it reconnects. Wins over ?lastEventId=",
};
const LAST_EVENT_ID_QUERY_DOC = { name: 'lastEventId', required: false, description: 'the Last-Event-ID, for clients that cannot set headers' };

/**
 * Server-Sent Events over the `workflow.changed` change feed (stream `WF_CHANGES`): each persisted
 * transition as `event: workflow.changed`, `id: <stream sequence>` (the change's sequence in
 * `WF_CHANGES`, decimal), `data: {workflowId, ...WorkflowChanged}`.
 *
 * Resumable the standard SSE way (WHATWG HTML "Server-sent events"): a client that reconnects with
 * `Last-Event-ID: <n>` (or `?lastEventId=<n>`) gets every change with a sequence above `n` that the
 * stream still holds, then the live ones; without it, changes from the moment of connecting. Both come
 * from one JetStream ordered consumer per client (filter `troupe.changes.*` or one workflow's subject),
 * so history and live changes meet with no gap and no duplicate. Changes older than the stream's
 * `maxAgeMs` (one day) are gone: a resume from before them starts at the oldest one kept.
 */
@ApiTags('feed')
@ApiSecurity('api-key')
@ApiSecurity('jwt')
@Controller()
export class FeedController {
  private readonly log = new Logger(FeedController.name);

  constructor(@Inject(GATEWAY_PORTS) private readonly ports: GatewayPorts) {}

  @Sse('feed')
  @Roles(...READ_ROLES)
  @ApiKeyInQuery()
  @ApiOperation({ summary: 'Feed of every workflow change (text/event-stream), resumable with Last-Event-ID' })
  @ApiProduces('text/event-stream')
  @ApiQuery({ name: 'api_key', required: false, description: 'the API key, for EventSource (cannot send headers)' })
  @ApiHeader(LAST_EVENT_ID_DOC)
  @ApiQuery(LAST_EVENT_ID_QUERY_DOC)
  @ProblemResponses(400, 503)
  async fleet(
    @Headers('last-event-id') header: string | undefined,
    @Query('lastEventId', new ZodValidationPipe(ResumePoint, 'lastEventId query parameter')) query: number | undefined,
    @SseSignal() signal: AbortSignal,
  ): Promise<Observable<MessageEvent>> {
    return this.changes(ALL_WORKFLOW_CHANGES, LAST_EVENT_ID_HEADER.transform(header) ?? query, signal);
  }

  @Sse('workflows/:id/feed')
  @Roles(...READ_ROLES)
  @ApiKeyInQuery()
  @ApiOperation({ summary: "Feed of one workflow's changes (text/event-stream), resumable with Last-Event-ID" })
  @ApiProduces('text/event-stream')
  @ApiQuery({ name: 'api_key', required: false, description: 'the API key, for EventSource (cannot send headers)' })
  @ApiHeader(LAST_EVENT_ID_DOC)
  @ApiQuery(LAST_EVENT_ID_QUERY_DOC)
  @ZodParam('id', WorkflowId)
  @ProblemResponses(400, 503)
  async workflow(
    @Param('id', new ZodValidationPipe(WorkflowId, 'workflow id')) id: string,
    @Headers('last-event-id') header: string | undefined,
    @Query('lastEventId', new ZodValidationPipe(ResumePoint, 'lastEventId query parameter')) query: number | undefined,
    @SseSignal() signal: AbortSignal,
  ): Promise<Observable<MessageEvent>> {
    return this.changes(workflowChangedSubject(id), LAST_EVENT_ID_HEADER.transform(header) ?? query, signal);
  }

  /**
   * One ordered consumer per client on `WF_CHANGES` filtered by `subject`, from sequence `after + 1`
   * (or only new changes when `after` is undefined). It is created before the answer's headers are
   * sent, so "from now" means from the moment the client sees `200`; it is deleted when the stream ends
   * (`signal`: the client left, even during this setup). Bad messages are logged and skipped.
   *
   * @throws ServiceUnavailableException (503) when the consumer cannot be created.
   */
  private async changes(subject: string, after: number | undefined, signal: AbortSignal): Promise<Observable<MessageEvent>> {
    let consumer: Consumer;
    let messages: ConsumerMessages;
    try {
      const start = after === undefined ? { deliver_policy: DeliverPolicy.New } : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 };
      consumer = await this.ports.js.consumers.get(STREAMS.workflowChanges.name, { filterSubjects: subject, inactive_threshold: ORDERED_CONSUMER_INACTIVE_MS, ...start });
      messages = await consumer.consume();
    } catch (error) {
      this.log.warn(`cannot follow ${subject} on ${STREAMS.workflowChanges.name}: ${(error as Error).message}`);
      throw new ServiceUnavailableException({ title: 'Change feed unavailable', message: `the ${STREAMS.workflowChanges.name} stream cannot be read now; retry later` });
    }
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      messages.stop();
      // Best effort: one left behind (the gateway died) is removed by the server after its inactive threshold.
      consumer.delete().catch(() => undefined);
    };
    signal.addEventListener('abort', close, { once: true });
    if (signal.aborted) close();
    return new Observable<MessageEvent>((subscriber) => {
      void (async () => {
        for await (const message of messages) {
          const event = this.toEvent(message);
          if (event !== null) subscriber.next(event);
        }
        subscriber.complete();
      })().catch((error: unknown) => {
        this.log.warn(`the change feed on ${subject} failed: ${(error as Error).message}`);
        subscriber.error(error);
      });
      return close;
    });
  }

  private toEvent(message: JsMsg): MessageEvent | null {
    try {
      const envelope = decodeEnvelope(message.data);
      if (envelope.type !== WORKFLOW_CHANGED) return null;
      const parsed = WorkflowChanged.safeParse(envelope.payload);
      if (!parsed.success) {
        this.log.warn(`skipped a ${WORKFLOW_CHANGED} on ${message.subject}: ${formatIssues(parsed.error).join('; ')}`);
        return null;
      }
      const data: WorkflowChangedEvent = { workflowId: envelope.workflowId, ...parsed.data };
      return { type: WORKFLOW_CHANGED, id: String(message.seq), data };
    } catch (error) {
      this.log.warn(`skipped a message on ${message.subject}: ${(error as Error).message}`);
      return null;
    }
  }
}
