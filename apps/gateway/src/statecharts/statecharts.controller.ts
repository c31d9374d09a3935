import { Controller, Get, Inject, NotFoundException, Param } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { APPROVAL_DECIDED, StatechartView, WORKFLOW_CANCEL_REQUESTED } from '@troupe/contracts';
import { READ_ROLES, Roles } from '../auth/roles.decorator';
import { ProblemResponses, ZodParam, ZodResponse } from '../http/openapi';
import { ZodValidationPipe } from '../http/zod-validation.pipe';
import { GATEWAY_PORTS, type GatewayPorts } from '../ports';

const WorkflowTypeParam = z.string().regex(/^[a-z][a-z0-9-]{0,127}$/, 'must be a workflow type such as email-triage');

/** `GET /statecharts/:workflowType`: a machine's definition, to draw the chart. */
@ApiTags('statecharts')
@ApiSecurity('api-key')
@ApiSecurity('jwt')
@Controller('statecharts')
export class StatechartsController {
  constructor(@Inject(GATEWAY_PORTS) private readonly ports: GatewayPorts) {}

  @Get(':workflowType')
  @Roles(...READ_ROLES)
  @ApiOperation({ summary: "A workflow type's statechart (XState machine.toJSON())" })
  @ZodParam('workflowType', WorkflowTypeParam)
  @ZodResponse(200, 'the statechart', StatechartView)
  @ProblemResponses(400, 404)
  get(@Param('workflowType', new ZodValidationPipe(WorkflowTypeParam, 'workflow type')) workflowType: string): StatechartView {
    const entry = this.ports.catalog.find((candidate) => candidate.workflowType === workflowType);
    if (entry === undefined) throw new NotFoundException({ title: 'Unknown workflow type', message: `no workflow type ${workflowType}` });
    return {
      workflowType,
      machineVersion: entry.machineVersion,
      startEventType: entry.startEventType,
      eventTypes: Object.keys(entry.events).filter((type) => ![entry.startEventType, APPROVAL_DECIDED, WORKFLOW_CANCEL_REQUESTED].includes(type)),
      // Guards and actions with functions serialise to their names; the JSON is plain data.
      machine: JSON.parse(JSON.stringify(entry.machine.toJSON())) as Record<string, unknown>,
    };
  }
}
