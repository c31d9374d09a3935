import { defineWorkflow } from '@troupe/actor-runtime';
import type { IncidentAlertReceived } from '@troupe/contracts';
import { INCIDENT_RESPONSE_WORKFLOW, incidentResponseTags } from '@troupe/statecharts';

/** Binds the incident-response machine to the bus: start event, payload schemas, input and tags. */
export function incidentResponseWorkflow(settings: { approvalTimeoutMs: number; escalationTimeoutMs: number }) {
  return defineWorkflow({
    // Type, machine, start event and event schemas come from the catalog the gateway reads too.
    ...INCIDENT_RESPONSE_WORKFLOW,
    input: ({ workflowId, payload }) => ({
      workflowId,
      alert: (payload as IncidentAlertReceived).alert,
      approvalTimeoutMs: settings.approvalTimeoutMs,
      escalationTimeoutMs: settings.escalationTimeoutMs,
    }),
    tags: (snapshot) => incidentResponseTags(snapshot.context),
  });
}
