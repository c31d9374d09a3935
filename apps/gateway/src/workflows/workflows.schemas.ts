import { z } from 'zod';
import { WorkflowId, WorkflowStatus } from '@troupe/contracts';

/** Query string of `GET /workflows`. `tag` is `key:value`. */
export const ListWorkflowsQuery = z.object({
  type: z.string().min(1).max(128).optional(),
  status: WorkflowStatus.optional(),
  state: z.string().min(1).max(256).optional(),
  tag: z
    .string()
    .regex(/^[^:]+:.+$/, 'must be key:value')
    .transform((value) => {
      const at = value.indexOf(':');
      return { key: value.slice(0, at), value: value.slice(at + 1) };
    })
    .optional(),
  idPrefix: z.string().max(128).optional(),
  machineVersion: z.string().min(1).max(64).optional(),
  /** ISO-8601 instants (any offset), normalised to UTC `toISOString()` form, which the stores compare. */
  updatedBefore: z.iso.datetime({ offset: true }).transform((value) => new Date(value).toISOString()).optional(),
  updatedAfter: z.iso.datetime({ offset: true }).transform((value) => new Date(value).toISOString()).optional(),
  /** `workflowId` (default), `updatedAt`; a leading `-` sorts descending. */
  sort: z
    .enum(['workflowId', '-workflowId', 'updatedAt', '-updatedAt'])
    .transform((value) => ({ field: value.replace(/^-/, '') as 'workflowId' | 'updatedAt', order: value.startsWith('-') ? ('desc' as const) : ('asc' as const) }))
    .optional(),
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
  cursor: z.string().max(1_000).optional(),
});
export type ListWorkflowsQuery = z.infer<typeof ListWorkflowsQuery>;

/** Query string of `GET /workflows/counts`: the filters of `GET /workflows`, without sort and paging. */
export const CountWorkflowsQuery = ListWorkflowsQuery.omit({ sort: true, limit: true, cursor: true });
export type CountWorkflowsQuery = z.infer<typeof CountWorkflowsQuery>;

/** Path parameter `:id`. */
export const WorkflowIdParam = WorkflowId;

/** Body of `POST /workflows/:id/approvals`. `gateId` defaults to the workflow's pending gate. */
export const DecideApprovalBody = z.object({
  gateId: z.string().min(1).max(256).optional(),
  decision: z.enum(['approved', 'rejected', 'edited']),
  comment: z.string().max(4_000).optional(),
  editedText: z.string().max(100_000).optional(),
});
export type DecideApprovalBody = z.infer<typeof DecideApprovalBody>;

/** Body of `POST /workflows/:id/cancel`. */
export const CancelWorkflowBody = z.object({ reason: z.string().min(1).max(4_000) });
export type CancelWorkflowBody = z.infer<typeof CancelWorkflowBody>;
