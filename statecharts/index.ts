/**
 * @troupe/statecharts: pure workflow machines (XState v5). No I/O, clocks or randomness: effects leave
 * as `requestEffect` actions and results come back as events. Start with `email-triage`.
 */
export {
  EMAIL_TRIAGE_MACHINE_VERSION,
  TRIAGE_APPROVER_ROLES,
  TRIAGE_ESCALATION_ROLES,
  type TriageGate,
  type EmailTriageInput,
  type EmailTriageContext,
  type EmailTriageEvent,
  type RecordedDecision,
  triageGateId,
  reviewedLabel,
  emailTriageMachine,
  emailTriageTags,
} from './email-triage/email-triage.machine';
export { recordCompensation, compensationsToRun } from './saga';
export {
  INCIDENT_RESPONSE_MACHINE_VERSION,
  INCIDENT_APPROVER_ROLES,
  INCIDENT_ESCALATION_ROLES,
  type IncidentGate,
  type IncidentResponseInput,
  type IncidentResponseContext,
  type IncidentResponseEvent,
  type IncidentDecision,
  incidentGateId,
  incidentTaskInput,
  incidentResponseMachine,
  incidentResponseTags,
} from './incident-response/incident-response.machine';
export { type WorkflowCatalogEntry, EMAIL_TRIAGE_WORKFLOW, INCIDENT_RESPONSE_WORKFLOW, WORKFLOW_CATALOG } from './catalog';
