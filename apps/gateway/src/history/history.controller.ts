import type { z } from 'zod';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { WorkflowId as WorkflowIdParam } from '@troupe/contracts';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { READ_ROLES, Roles } from '../auth/roles.decorator';
import { ProblemResponses, ZodBody, ZodParam, ZodQuery } from '../http/openapi';
import { ZodValidationPipe } from '../http/zod-validation.pipe';
import { GATEWAY_PORTS, type GatewayPorts } from '../ports';
import { HISTORY_DEFINITIONS } from './history.definitions';
import { ForkBody, ReplayQuery } from './history.schemas';
import { HistoryService } from './history.service';

// Parameters typed by a name that is also a zod schema would carry the schema as decorator metadata
// (Swagger then reads it as a class); these aliases carry plain Object.
type ParsedReplayQuery = z.infer<typeof ReplayQuery>;
type ParsedForkBody = z.infer<typeof ForkBody>;

/** `/workflows/:id/replay` and `/workflows/:id/fork`: time travel over a workflow's journal. */
@ApiTags('history')
@ApiSecurity('api-key')
@ApiSecurity('jwt')
@Controller('workflows')
export class HistoryController {
  private readonly history: HistoryService;

  // The service is made here (not a provider) so registering history is one line in GatewayModule.
  constructor(@Inject(GATEWAY_PORTS) ports: GatewayPorts) {
    this.history = new HistoryService(ports, HISTORY_DEFINITIONS);
  }

  /** `GET /workflows/:id/replay?step=N`: the state at step N rebuilt from the journal, and whether it matches what was stored. */
  @Get(':id/replay')
  @Roles(...READ_ROLES)
  @ApiOperation({ summary: 'The state at step N rebuilt from the journal alone, and whether it matches the snapshot stored at N' })
  @ZodParam('id', WorkflowIdParam)
  @ZodQuery(ReplayQuery)
  @ProblemResponses(400, 404, 409)
  replay(
    @Param('id', new ZodValidationPipe(WorkflowIdParam, 'workflow id')) id: string,
    @Query(new ZodValidationPipe(ReplayQuery, 'query')) query: ParsedReplayQuery,
  ) {
    return this.history.replay(id, query.step);
  }

  /** `POST /workflows/:id/fork`: a new workflow from step N with a different next event (202: the fork applies it). */
  @Post(':id/fork')
  @HttpCode(202)
  @Roles('operator')
  @ApiOperation({ summary: 'Start a new workflow from step N of this one with a different next event (the original is untouched); a decision or cancel in it carries the caller\'s identity' })
  @ZodParam('id', WorkflowIdParam)
  @ZodBody(ForkBody)
  @ProblemResponses(400, 404, 409)
  fork(
    @Param('id', new ZodValidationPipe(WorkflowIdParam, 'workflow id')) id: string,
    @Body(new ZodValidationPipe(ForkBody, 'body')) body: ParsedForkBody,
    @CurrentPrincipal() principal: Principal,
  ) {
    return this.history.fork(id, body, principal);
  }
}
