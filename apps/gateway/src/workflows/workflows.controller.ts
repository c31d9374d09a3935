import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ZodValidationPipe } from '../http/zod-validation.pipe';
import { CancelWorkflowBody, CountWorkflowsQuery, DecideApprovalBody, ListWorkflowsQuery, WorkflowIdParam } from './workflows.schemas';
import { WorkflowsService } from './workflows.service';

/** `/workflows`: list and inspect workflow actors, and decide their approvals. */
@Controller('workflows')
export class WorkflowsController {
  constructor(private readonly workflows: WorkflowsService) {}

  /** `GET /workflows?type=&status=&state=&tag=key:value&idPrefix=&machineVersion=&updatedBefore=&updatedAfter=&sort=[-]workflowId|[-]updatedAt&limit=&cursor=` */
  @Get()
  list(@Query(new ZodValidationPipe(ListWorkflowsQuery, 'query')) query: ListWorkflowsQuery) {
    return this.workflows.list(query);
  }

  /** `GET /workflows/counts?type=&status=&state=&tag=&idPrefix=&machineVersion=&updatedBefore=&updatedAfter=`: counts per status and state path. */
  @Get('counts')
  counts(@Query(new ZodValidationPipe(CountWorkflowsQuery, 'query')) query: CountWorkflowsQuery) {
    return this.workflows.counts(query);
  }

  /** `GET /workflows/:id`: state value, context, status, pending approval and journal. */
  @Get(':id')
  get(@Param('id', new ZodValidationPipe(WorkflowIdParam, 'workflow id')) id: string) {
    return this.workflows.get(id);
  }

  /** `POST /workflows/:id/approvals`: publishes the decision as an event (202: the workflow applies it). */
  @Post(':id/approvals')
  @HttpCode(202)
  decide(
    @Param('id', new ZodValidationPipe(WorkflowIdParam, 'workflow id')) id: string,
    @Body(new ZodValidationPipe(DecideApprovalBody, 'body')) body: DecideApprovalBody,
  ) {
    return this.workflows.decide(id, body);
  }

  /** `POST /workflows/:id/cancel`: publishes a cancel request as an event (202: the workflow applies it). */
  @Post(':id/cancel')
  @HttpCode(202)
  cancel(
    @Param('id', new ZodValidationPipe(WorkflowIdParam, 'workflow id')) id: string,
    @Body(new ZodValidationPipe(CancelWorkflowBody, 'body')) body: CancelWorkflowBody,
  ) {
    return this.workflows.cancel(id, body);
  }
}
