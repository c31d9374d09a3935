import type { z } from 'zod';
import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { CreateScheduleBody, ScheduleId, SchedulePage, ScheduleView } from '@troupe/contracts';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { READ_ROLES, Roles } from '../auth/roles.decorator';
import { ProblemResponses, ZodBody, ZodParam, ZodResponse } from '../http/openapi';
import { ZodValidationPipe } from '../http/zod-validation.pipe';
import { SchedulesService } from './schedules.service';

// Decorator metadata of a parameter typed by a name that is also a zod schema would carry the schema
// object (Swagger then reads it as a class); this alias carries plain Object.
type ParsedCreateScheduleBody = z.infer<typeof CreateScheduleBody>;

const scheduleId = new ZodValidationPipe(ScheduleId, 'schedule id');

/** `/schedules`: cron schedules that start workflows; list, create, pause and resume. */
@ApiTags('schedules')
@ApiSecurity('api-key')
@ApiSecurity('jwt')
@Controller('schedules')
export class SchedulesController {
  constructor(private readonly schedules: SchedulesService) {}

  @Get()
  @Roles(...READ_ROLES)
  @ApiOperation({ summary: 'Every schedule, sorted by id, with its next tick' })
  @ZodResponse(200, 'the schedules', SchedulePage)
  list() {
    return this.schedules.list();
  }

  @Post()
  @HttpCode(201)
  @Roles('operator')
  @ApiOperation({ summary: 'Create a cron schedule that starts a workflow type on every tick (croner patterns: 5 fields, or 6 with seconds)' })
  @ZodBody(CreateScheduleBody)
  @ZodResponse(201, 'created', ScheduleView)
  @ProblemResponses(400, 404, 409)
  create(@Body(new ZodValidationPipe(CreateScheduleBody, 'body')) body: ParsedCreateScheduleBody, @CurrentPrincipal() principal: Principal) {
    return this.schedules.create(body, principal);
  }

  @Get(':id')
  @Roles(...READ_ROLES)
  @ApiOperation({ summary: 'One schedule' })
  @ZodParam('id', ScheduleId)
  @ZodResponse(200, 'the schedule', ScheduleView)
  @ProblemResponses(400, 404)
  get(@Param('id', scheduleId) id: string) {
    return this.schedules.get(id);
  }

  @Post(':id/pause')
  @HttpCode(200)
  @Roles('operator')
  @ApiOperation({ summary: 'Pause a schedule (a tick already claimed is still started)' })
  @ZodParam('id', ScheduleId)
  @ZodResponse(200, 'paused', ScheduleView)
  @ProblemResponses(400, 404)
  pause(@Param('id', scheduleId) id: string) {
    return this.schedules.setPaused(id, true);
  }

  @Post(':id/resume')
  @HttpCode(200)
  @Roles('operator')
  @ApiOperation({ summary: 'Resume a schedule from now on (ticks missed while paused are not fired)' })
  @ZodParam('id', ScheduleId)
  @ZodResponse(200, 'resumed', ScheduleView)
  @ProblemResponses(400, 404)
  resume(@Param('id', scheduleId) id: string) {
    return this.schedules.setPaused(id, false);
  }
}
