import { Controller, Inject, Logger, Param, Sse, type MessageEvent } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { Observable } from 'rxjs';
import { ALL_WORKFLOW_CHANGES, WORKFLOW_CHANGED, WorkflowChanged, WorkflowId, decodeEnvelope, formatIssues, workflowChangedSubject, type WorkflowChangedEvent } from '@troupe/contracts';
import { ApiKeyInQuery, READ_ROLES, Roles } from '../auth/roles.decorator';
import { ProblemResponses, ZodParam } from '../http/openapi';
import { ZodValidationPipe } from '../http/zod-validation.pipe';
import { GATEWAY_PORTS, type GatewayPorts } from '../ports';

/**
 * Server-Sent Events over the `workflow.changed` change feed: each persisted transition as
 * `event: workflow.changed`, `id: <workflowId>:<version>`, `data: {workflowId, ...WorkflowChanged}`.
 * Live only, from the moment of connecting (a core NATS subscription on `troupe.changes.*` or one
 * workflow's subject; the stream keeps the history for readers that need it).
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
  @ApiOperation({ summary: 'Live feed of every workflow change (text/event-stream)' })
  @ApiProduces('text/event-stream')
  @ApiQuery({ name: 'api_key', required: false, description: 'the API key, for EventSource (cannot send headers)' })
  @ProblemResponses()
  fleet(): Observable<MessageEvent> {
    return this.changes(ALL_WORKFLOW_CHANGES);
  }

  @Sse('workflows/:id/feed')
  @Roles(...READ_ROLES)
  @ApiKeyInQuery()
  @ApiOperation({ summary: "Live feed of one workflow's changes (text/event-stream)" })
  @ApiProduces('text/event-stream')
  @ApiQuery({ name: 'api_key', required: false, description: 'the API key, for EventSource (cannot send headers)' })
  @ZodParam('id', WorkflowId)
  @ProblemResponses(400)
  workflow(@Param('id', new ZodValidationPipe(WorkflowId, 'workflow id')) id: string): Observable<MessageEvent> {
    return this.changes(workflowChangedSubject(id));
  }

  /** One core subscription per client, ended when the client goes away. Bad messages are logged and skipped. */
  private changes(subject: string): Observable<MessageEvent> {
    return new Observable<MessageEvent>((subscriber) => {
      const subscription = this.ports.nats.subscribe(subject);
      void (async () => {
        for await (const message of subscription) {
          try {
            const envelope = decodeEnvelope(message.data);
            if (envelope.type !== WORKFLOW_CHANGED) continue;
            const parsed = WorkflowChanged.safeParse(envelope.payload);
            if (!parsed.success) {
              this.log.warn(`skipped a ${WORKFLOW_CHANGED} on ${message.subject}: ${formatIssues(parsed.error).join('; ')}`);
              continue;
            }
            const data: WorkflowChangedEvent = { workflowId: envelope.workflowId, ...parsed.data };
            subscriber.next({ type: WORKFLOW_CHANGED, id: `${envelope.workflowId}:${parsed.data.version}`, data });
          } catch (error) {
            this.log.warn(`skipped a message on ${message.subject}: ${(error as Error).message}`);
          }
        }
        subscriber.complete();
      })();
      return () => subscription.unsubscribe();
    });
  }
}
