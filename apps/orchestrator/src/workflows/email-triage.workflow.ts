import { defineWorkflow } from '@troupe/actor-runtime';
import type { EmailReceived } from '@troupe/contracts';
import { EMAIL_TRIAGE_WORKFLOW, emailTriageTags } from '@troupe/statecharts';

/** Binds the email-triage machine to the bus: start event, payload schemas, input and tags. */
export function emailTriageWorkflow(settings: { confidenceThreshold: number; approvalTimeoutMs: number; escalationTimeoutMs: number }) {
  return defineWorkflow({
    // Type, machine, start event and event schemas come from the catalog the gateway reads too.
    ...EMAIL_TRIAGE_WORKFLOW,
    input: ({ workflowId, payload }) => ({
      workflowId,
      email: (payload as EmailReceived).email,
      confidenceThreshold: settings.confidenceThreshold,
      approvalTimeoutMs: settings.approvalTimeoutMs,
      escalationTimeoutMs: settings.escalationTimeoutMs,
    }),
    tags: (snapshot) => emailTriageTags(snapshot.context),
  });
}
