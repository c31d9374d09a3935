import { BadRequestException, ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { ScheduleStore, ScheduleStoreError, nextTickOf, validateCron } from '@troupe/bus';
import { formatIssues, scheduledWorkflowId, type CreateScheduleBody, type ScheduleRecord, type ScheduleView } from '@troupe/contracts';
import type { Principal } from '../auth/principal';
import { GATEWAY_PORTS, type GatewayPorts } from '../ports';

/** The HTTP view of a schedule: the record, its next tick and the workflow id that tick starts. */
export function scheduleView(record: ScheduleRecord): ScheduleView {
  const next = record.paused ? null : nextTickOf(record);
  return { ...record, nextTick: next?.toISOString() ?? null, nextWorkflowId: next === null ? null : scheduledWorkflowId(record.scheduleId, next) };
}

/**
 * Operators' commands over schedules. Schedules are configuration, not workflow state: they live in
 * the `troupe_schedules` KV bucket, written by compare-and-set; the orchestrators' schedulers fire them.
 */
@Injectable()
export class SchedulesService {
  private store: Promise<ScheduleStore> | null = null;

  constructor(@Inject(GATEWAY_PORTS) private readonly ports: GatewayPorts) {}

  private open(): Promise<ScheduleStore> {
    this.store ??= ScheduleStore.open(this.ports.nats).catch((error: unknown) => {
      this.store = null;
      throw error;
    });
    return this.store;
  }

  async list(): Promise<{ items: ScheduleView[]; unreadable: string[] }> {
    const { items, unreadable } = await (await this.open()).list();
    return { items: items.map(({ record }) => scheduleView(record)), unreadable };
  }

  /** @throws NotFoundException for an unknown schedule. */
  async get(scheduleId: string): Promise<ScheduleView> {
    const stored = await (await this.open()).get(scheduleId);
    if (stored === null) throw new NotFoundException({ title: 'Schedule not found', message: `no schedule ${scheduleId}` });
    return scheduleView(stored.record);
  }

  /**
   * Creates a schedule: checks the cron pattern and time zone with croner, the workflow type against the
   * catalog and the payload against its start event's schema.
   *
   * @throws BadRequestException for a bad pattern, time zone, window or payload; NotFoundException for an
   *   unknown workflow type; ConflictException when the id exists.
   */
  async create(body: CreateScheduleBody, principal: Principal): Promise<ScheduleView> {
    const entry = this.ports.catalog.find((candidate) => candidate.workflowType === body.workflowType);
    if (entry === undefined) {
      throw new NotFoundException({ title: 'Unknown workflow type', message: `no workflow type ${body.workflowType}; known: ${this.ports.catalog.map((e) => e.workflowType).join(', ')}` });
    }
    const parsed = entry.events[entry.startEventType].safeParse(body.payload);
    if (!parsed.success) throw new BadRequestException({ title: `Invalid ${entry.startEventType} payload`, issues: formatIssues(parsed.error).map((issue) => `payload.${issue}`) });
    const now = this.ports.now();
    const timezone = body.timezone ?? 'UTC';
    try {
      validateCron(body.cron, timezone, now);
    } catch (error) {
      throw new BadRequestException({ title: 'Invalid cron schedule', issues: [`cron: ${(error as Error).message}`] });
    }
    const notBefore = body.startAt ?? now.toISOString();
    if (body.stopAt !== undefined && Date.parse(body.stopAt) <= Date.parse(notBefore)) {
      throw new BadRequestException({ title: 'Invalid schedule window', issues: ['stopAt: must be after startAt (or now)'] });
    }
    const record: ScheduleRecord = {
      scheduleId: body.scheduleId,
      cron: body.cron,
      timezone,
      workflowType: body.workflowType,
      payload: body.payload,
      paused: body.paused ?? false,
      notBefore: new Date(notBefore).toISOString(),
      stopAt: body.stopAt === undefined ? null : new Date(body.stopAt).toISOString(),
      lastFiredTick: null,
      firedCount: 0,
      skippedCount: 0,
      claim: null,
      lastError: null,
      createdBy: principal.id,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
    };
    try {
      return scheduleView((await (await this.open()).create(record)).record);
    } catch (error) {
      if (error instanceof ScheduleStoreError && error.code === 'SCHEDULE_EXISTS') throw new ConflictException({ title: 'Schedule exists', message: error.message });
      throw error;
    }
  }

  /**
   * Pauses (`paused` true) or resumes a schedule. Resuming sets `notBefore` to now, so ticks missed while
   * paused are not fired. A tick already claimed by a scheduler is still published.
   *
   * @throws NotFoundException for an unknown schedule.
   */
  async setPaused(scheduleId: string, paused: boolean): Promise<ScheduleView> {
    try {
      const written = await (await this.open()).modify(scheduleId, (record) => {
        if (record.paused === paused) return record;
        const at = this.ports.now().toISOString();
        return paused ? { ...record, paused, updatedAt: at } : { ...record, paused, notBefore: at, lastError: null, updatedAt: at };
      });
      return scheduleView(written.record);
    } catch (error) {
      if (error instanceof ScheduleStoreError && error.code === 'SCHEDULE_NOT_FOUND') throw new NotFoundException({ title: 'Schedule not found', message: error.message });
      throw error;
    }
  }
}
