import type { z } from 'zod';
import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import {
  ApprovalAccepted,
  CancelWorkflowBody,
  DecideApprovalBody,
  EventAccepted,
  JournalPage,
  ListWorkflowsQuery,
  SendEventBody,
  StartWorkflowBody,
  WorkflowDetail,
  WorkflowId,
  WorkflowListPage,
  WorkflowStarted,
} from '@troupe/contracts';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { READ_ROLES, Roles } from '../auth/roles.decorator';
import { ProblemResponses, ZodBody, ZodParam, ZodQuery, ZodResponse } from '../http/openapi';
import { ZodValidationPipe } from '../http/zod-validation.pipe';
import { WorkflowsService } from './workflows.service';

// Decorator metadata of a parameter typed by a name that is also a zod schema would carry the schema
// object (Swagger then reads it as a class); these aliases carry plain Object.
type ParsedListWorkflowsQuery = z.infer<typeof ListWorkflowsQuery>;
type ParsedStartWorkflowBody = z.infer<typeof StartWorkflowBody>;
type ParsedSendEventBody = z.infer<typeof SendEventBody>;
type ParsedDecideApprovalBody = z.infer<typeof DecideApprovalBody>;
type ParsedCancelWorkflowBody = z.infer<typeof CancelWorkflowBody>;

const workflowId = new ZodValidationPipe(WorkflowId, 'workflow id');

/** `/workflows`: list and inspect workflow actors, start them, send them events, decide and cancel. */
@ApiTags('workflows')
@ApiSecurity('api-key')
@ApiSecurity('jwt')
@Controller('workflows')
export class WorkflowsController {
  constructor(private readonly workflows: WorkflowsService) {}

  @Get()
  @Roles(...READ_ROLES)
  @ApiOperation({ summary: 'List and filter workflows (cursor pagination, sorted by workflow id)' })
  @ZodQuery(ListWorkflowsQuery)
  @ZodResponse(200, 'one page', WorkflowListPage)
  @ProblemResponses(400)
  list(@Query(new ZodValidationPipe(ListWorkflowsQuery, 'query')) query: ParsedListWorkflowsQuery) {
    return this.workflows.list(query);
  }

  @Post()
  @HttpCode(202)
  @Roles('operator')
  @ApiOperation({ summary: "Start a workflow: publishes its type's start event (202: the orchestrator applies it)" })
  @ZodBody(StartWorkflowBody)
  @ZodResponse(202, 'start event published', WorkflowStarted)
  @ProblemResponses(400, 404, 409)
  start(@Body(new ZodValidationPipe(StartWorkflowBody, 'body')) body: ParsedStartWorkflowBody, @CurrentPrincipal() principal: Principal) {
    return this.workflows.start(body, principal);
  }

  @Get(':id')
  @Roles(...READ_ROLES)
  @ApiOperation({ summary: "One workflow: state, context, pending approval and journal" })
  @ZodParam('id', WorkflowId)
  @ZodResponse(200, 'the workflow', WorkflowDetail)
  @ProblemResponses(400, 404)
  get(@Param('id', workflowId) id: string) {
    return this.workflows.get(id);
  }

  @Get(':id/journal')
  @Roles(...READ_ROLES)
  @ApiOperation({ summary: "One workflow's journal (applied and rejected events, in order)" })
  @ZodParam('id', WorkflowId)
  @ZodResponse(200, 'the journal', JournalPage)
  @ProblemResponses(400, 404)
  journal(@Param('id', workflowId) id: string) {
    return this.workflows.journal(id);
  }

  @Post(':id/events')
  @HttpCode(202)
  @Roles('operator')
  @ApiOperation({ summary: 'Send an event into a workflow (its payload checked against the workflow type; not decisions or cancels)' })
  @ZodParam('id', WorkflowId)
  @ZodBody(SendEventBody)
  @ZodResponse(202, 'event published', EventAccepted)
  @ProblemResponses(400, 404, 409)
  send(@Param('id', workflowId) id: string, @Body(new ZodValidationPipe(SendEventBody, 'body')) body: ParsedSendEventBody, @CurrentPrincipal() principal: Principal) {
    return this.workflows.send(id, body, principal);
  }

  @Post(':id/approvals')
  @HttpCode(202)
  @Roles('approver')
  @ApiOperation({ summary: 'Decide the pending approval as the authenticated caller (202: the workflow checks gate and role, and journals the outcome)' })
  @ZodParam('id', WorkflowId)
  @ZodBody(DecideApprovalBody)
  @ZodResponse(202, 'decision published', ApprovalAccepted)
  @ProblemResponses(400, 404, 409)
  decide(@Param('id', workflowId) id: string, @Body(new ZodValidationPipe(DecideApprovalBody, 'body')) body: ParsedDecideApprovalBody, @CurrentPrincipal() principal: Principal) {
    return this.workflows.decide(id, body, principal);
  }

  @Post(':id/cancel')
  @HttpCode(202)
  @Roles('operator')
  @ApiOperation({ summary: 'Ask a workflow to stop, as the authenticated caller (202: the workflow applies it)' })
  @ZodParam('id', WorkflowId)
  @ZodBody(CancelWorkflowBody)
  @ZodResponse(202, 'cancel request published', EventAccepted)
  @ProblemResponses(400, 404, 409)
  cancel(@Param('id', workflowId) id: string, @Body(new ZodValidationPipe(CancelWorkflowBody, 'body')) body: ParsedCancelWorkflowBody, @CurrentPrincipal() principal: Principal) {
    return this.workflows.cancel(id, body, principal);
  }
}
