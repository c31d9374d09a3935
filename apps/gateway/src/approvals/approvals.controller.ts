import type { z } from 'zod';
import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApprovalInboxPage, PageQuery, type ApprovalInboxItem } from '@troupe/contracts';
import { READ_ROLES, Roles } from '../auth/roles.decorator';
import { ProblemResponses, ZodQuery, ZodResponse } from '../http/openapi';
import { ZodValidationPipe } from '../http/zod-validation.pipe';
import { GATEWAY_PORTS, type GatewayPorts } from '../ports';
import { badCursor, pendingApprovalView } from '../workflows/workflows.service';

// Decorator metadata of a parameter typed by a name that is also a zod schema would carry the schema
// object (Swagger then reads it as a class); these aliases carry plain Object.
type ParsedPageQuery = z.infer<typeof PageQuery>;

/** Store pages scanned per inbox request at most; the cursor carries on from where the scan stopped. */
const MAX_SCANS = 20;

/** `GET /approvals`: the inbox of workflows waiting for a human decision. */
@ApiTags('approvals')
@ApiSecurity('api-key')
@ApiSecurity('jwt')
@Controller('approvals')
export class ApprovalsController {
  constructor(@Inject(GATEWAY_PORTS) private readonly ports: GatewayPorts) {}

  /**
   * Scans active workflows in id order and keeps those with a pending approval; a page holds at most
   * `limit` items and may hold fewer (the scan stops after a few store pages), so page on while
   * `nextCursor` is not null. The cursor is the store's.
   */
  @Get()
  @Roles(...READ_ROLES)
  @ApiOperation({ summary: 'Workflows with a pending approval (cursor pagination; a page may be short, follow nextCursor)' })
  @ZodQuery(PageQuery)
  @ZodResponse(200, 'one page of the inbox', ApprovalInboxPage)
  @ProblemResponses(400)
  async inbox(@Query(new ZodValidationPipe(PageQuery, 'query')) query: ParsedPageQuery): Promise<ApprovalInboxPage> {
    const items: ApprovalInboxItem[] = [];
    let cursor = query.cursor;
    for (let scan = 0; scan < MAX_SCANS && items.length < query.limit; scan += 1) {
      let page: Awaited<ReturnType<GatewayPorts['store']['list']>>;
      try {
        // At most the items still missing per store page, so the inbox page never exceeds `limit`.
        page = await this.ports.store.list({ status: 'active', limit: query.limit - items.length, cursor });
      } catch (error) {
        throw badCursor(error);
      }
      for (const record of page.items) {
        if (record.pendingApproval === null) continue;
        items.push({ workflowId: record.workflowId, workflowType: record.workflowType, stateValue: record.stateValue, pendingApproval: pendingApprovalView(record.pendingApproval), updatedAt: record.updatedAt });
      }
      if (page.nextCursor === null) return { items, nextCursor: null };
      cursor = page.nextCursor;
    }
    return { items, nextCursor: cursor ?? null };
  }
}
