import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ZodValidationPipe } from '../http/zod-validation.pipe';
import { GATEWAY_PORTS, type GatewayPorts } from '../workflows/workflows.service';
import { WorkflowIdParam } from '../workflows/workflows.schemas';
import { HISTORY_DEFINITIONS } from './history.definitions';
import { ForkBody, ReplayQuery } from './history.schemas';
import { HistoryService } from './history.service';

/** `/workflows/:id/replay` and `/workflows/:id/fork`: time travel over a workflow's journal. */
@Controller('workflows')
export class HistoryController {
  private readonly history: HistoryService;

  // The service is made here (not a provider) so registering history is one line in GatewayModule.
  constructor(@Inject(GATEWAY_PORTS) ports: GatewayPorts) {
    this.history = new HistoryService(ports, HISTORY_DEFINITIONS);
  }

  /** `GET /workflows/:id/replay?step=N`: the state at step N rebuilt from the journal, and whether it matches what was stored. */
  @Get(':id/replay')
  replay(
    @Param('id', new ZodValidationPipe(WorkflowIdParam, 'workflow id')) id: string,
    @Query(new ZodValidationPipe(ReplayQuery, 'query')) query: ReplayQuery,
  ) {
    return this.history.replay(id, query.step);
  }

  /** `POST /workflows/:id/fork`: a new workflow from step N with a different next event (202: the fork applies it). */
  @Post(':id/fork')
  @HttpCode(202)
  fork(
    @Param('id', new ZodValidationPipe(WorkflowIdParam, 'workflow id')) id: string,
    @Body(new ZodValidationPipe(ForkBody, 'body')) body: ForkBody,
  ) {
    return this.history.fork(id, body);
  }
}
