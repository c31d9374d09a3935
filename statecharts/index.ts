/**
 * @troupe/statecharts: pure workflow machines (XState v5). No I/O, clocks or randomness: effects leave
 * as `requestEffect` actions and results come back as events. Start with `email-triage` (a workflow),
 * `react-loop` (one agent run) and `supervisor-routing` (the supervisor's handling of one task).
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
  REACT_LOOP_MACHINE_VERSION,
  REACT_LOOP_APPROVER_ROLES,
  type ReactLoopInput,
  type ReactLoopContext,
  type ReactLoopEvent,
  type ReactLoopGate,
  type RunFailure,
  reactLoopGateId,
  runUsage,
  budgetReached,
  reactLoopMachine,
} from './react-loop/react-loop.machine';
export {
  SUPERVISOR_ROUTING_MACHINE_VERSION,
  SUPERVISOR_APPROVER_ROLES,
  type SupervisorRoutingInput,
  type SupervisorRoutingContext,
  type SupervisorRoutingEvent,
  type DispatchedTask,
  routeReviewGateId,
  joinResult,
  supervisorRoutingMachine,
} from './supervisor-routing/supervisor-routing.machine';
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
