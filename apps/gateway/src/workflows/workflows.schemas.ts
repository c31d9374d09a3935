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
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
  cursor: z.string().max(1_000).optional(),
});
export type ListWorkflowsQuery = z.infer<typeof ListWorkflowsQuery>;

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
