/**
 * @troupe/statecharts: pure workflow machines (XState v5). No I/O, clocks or randomness: effects leave
 * as `requestEffect` actions and results come back as events. Start with `email-triage` (a workflow;
 * its previous version stays as `email-triage.v3.machine.ts` for running instances, with the migration),
 * `react-loop` (one agent run) and `supervisor-routing` (the supervisor's handling of one task);
 * `claim-processing` ships in two forms, a TypeScript machine and a declared one
 * (`claim-processing.workflow.yaml`), both built from the named pieces in its `implementations`;
 * `declared/` reads, validates and compiles declared workflows.
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
  type TriageAgent,
  type AgentFailure,
  triageGateId,
  reviewedLabel,
  emailTriageMachine,
  emailTriageTags,
} from './email-triage/email-triage.machine';
export {
  EMAIL_TRIAGE_V3_MACHINE_VERSION,
  type EmailTriageV3Input,
  type EmailTriageV3Context,
  type EmailTriageV3Event,
  emailTriageV3Machine,
  emailTriageV3Tags,
} from './email-triage/email-triage.v3.machine';
export { EMAIL_TRIAGE_V3_TO_V4 } from './email-triage/email-triage.migrations';
export {
  CLAIM_PROCESSING_MACHINE_VERSION,
  CLAIM_REVIEW_ROLES,
  CLAIM_MANAGER_ROLES,
  type ClaimGate,
  type ClaimProcessingInput,
  type ClaimProcessingContext,
  type ClaimProcessingEvent,
  type ClaimHumanDecision,
  claimGateId,
  editedAmountUsd,
  claimProcessingContext,
  claimEffects,
  claimGateTexts,
  claimGuards,
  claimActions,
  claimDelays,
  claimProcessingTags,
  CLAIM_PROCESSING_BUDGETS,
  CLAIM_PROCESSING_MODELS,
  claimTaskLimits,
} from './claim-processing/claim-processing.implementations';
export { claimProcessingMachine } from './claim-processing/claim-processing.machine';
export { CLAIM_PROCESSING_REGISTRY } from './claim-processing/claim-processing.registry';
export {
  type DeclaredWorkflowIssue,
  DeclaredWorkflowError,
  type DeclaredWorkflowDocument,
  type DeclaredWorkflowRegistry,
  type CompiledWorkflow,
  parseDeclaredWorkflow,
  compileDeclaredWorkflow,
  loadDeclaredWorkflow,
  declaredTaskLimits,
} from './declared/declared-workflow';
export {
  NamedReference,
  DeclaredTransition,
  DeclaredTransitions,
  DeclaredTimeout,
  DeclaredApproval,
  DeclaredOutput,
  DeclaredState,
  DeclaredBudgets,
  DeclaredModel,
  DeclaredWorkflow,
} from './declared/declared-workflow.schema';
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
export {
  type WorkflowCatalogEntry,
  EMAIL_TRIAGE_WORKFLOW,
  EMAIL_TRIAGE_V3_WORKFLOW,
  INCIDENT_RESPONSE_WORKFLOW,
  CLAIM_PROCESSING_EVENTS,
  CLAIM_PROCESSING_WORKFLOW,
  WORKFLOW_CATALOG,
} from './catalog';
