import type { AnyStateMachine } from 'xstate';
import type { z } from 'zod';
import {
  APPROVAL_DECIDED,
  CLAIM_AUDITED,
  CLAIM_CLASSIFIED,
  CLAIM_EXTRACTED,
  CLAIM_LETTER_GENERATED,
  CLAIM_NOTIFIED,
  CLAIM_PROCESSING,
  CLAIM_REVIEWED,
  CLAIM_SUBMITTED,
  ClaimAudited,
  ClaimClassified,
  ClaimExtracted,
  ClaimLetterGenerated,
  ClaimNotified,
  ClaimReviewed,
  ClaimSubmitted,
  ApprovalDecided,
  EFFECT_FAILED,
  EMAIL_CLASSIFIED,
  EMAIL_QUARANTINED,
  EMAIL_RECEIVED,
  EMAIL_ROUTED,
  EMAIL_SUMMARISED,
  EMAIL_TRIAGE,
  EffectFailed,
  EmailClassified,
  EmailQuarantined,
  EmailReceived,
  EmailRouted,
  EmailSummarised,
  REPLY_DRAFTED,
  REPLY_SENT,
  ReplyDrafted,
  ReplySent,
  WORKFLOW_CANCEL_REQUESTED,
  WorkflowCancelRequested,
} from '@troupe/contracts';
import {
  FIX_EXECUTED,
  FixExecuted,
  INCIDENT_ALERT_RECEIVED,
  INCIDENT_DIAGNOSED,
  INCIDENT_ENRICHED,
  INCIDENT_ESCALATED,
  INCIDENT_REPORTED,
  INCIDENT_RESPONSE,
  IncidentAlertReceived,
  IncidentDiagnosed,
  IncidentEnriched,
  IncidentEscalated,
  IncidentReported,
  ONCALL_PAGED,
  OncallPaged,
  SAFE_ACTION_APPLIED,
  SafeActionApplied,
} from '@troupe/contracts';
import { CLAIM_PROCESSING_MACHINE_VERSION } from './claim-processing/claim-processing.implementations';
import { claimProcessingMachine } from './claim-processing/claim-processing.machine';
import { EMAIL_TRIAGE_MACHINE_VERSION, emailTriageMachine } from './email-triage/email-triage.machine';
import { EMAIL_TRIAGE_V3_MACHINE_VERSION, emailTriageV3Machine } from './email-triage/email-triage.v3.machine';
import { INCIDENT_RESPONSE_MACHINE_VERSION, incidentResponseMachine } from './incident-response/incident-response.machine';

/**
 * What every process knows about a workflow type without hosting it: its machine, the event that
 * starts it and the payload schema of every event it accepts. The orchestrator binds an entry to the
 * runtime (input, tags, settings); the gateway derives from it which types can be started, validates
 * start and send payloads before publishing, and draws the chart.
 */
export interface WorkflowCatalogEntry {
  workflowType: string;
  machine: AnyStateMachine;
  machineVersion: string;
  /** The event type that creates an instance. */
  startEventType: string;
  /** Payload schema per accepted event type, the start event included. */
  events: Record<string, z.ZodType>;
}

/** Inbox triage: one workflow per email. */
export const EMAIL_TRIAGE_WORKFLOW = {
  workflowType: EMAIL_TRIAGE,
  machine: emailTriageMachine,
  machineVersion: EMAIL_TRIAGE_MACHINE_VERSION,
  startEventType: EMAIL_RECEIVED,
  events: {
    [EMAIL_RECEIVED]: EmailReceived,
    [EMAIL_CLASSIFIED]: EmailClassified,
    [EMAIL_QUARANTINED]: EmailQuarantined,
    [EMAIL_ROUTED]: EmailRouted,
    [EMAIL_SUMMARISED]: EmailSummarised,
    [REPLY_DRAFTED]: ReplyDrafted,
    [APPROVAL_DECIDED]: ApprovalDecided,
    [REPLY_SENT]: ReplySent,
    [EFFECT_FAILED]: EffectFailed,
    [WORKFLOW_CANCEL_REQUESTED]: WorkflowCancelRequested,
  },
} as const satisfies WorkflowCatalogEntry;

/**
 * email-triage@3, frozen (same events): hosted and replayed for instances still on it. Not in
 * `WORKFLOW_CATALOG` (one entry per type, the latest): nothing new starts on it.
 */
export const EMAIL_TRIAGE_V3_WORKFLOW = {
  ...EMAIL_TRIAGE_WORKFLOW,
  machine: emailTriageV3Machine,
  machineVersion: EMAIL_TRIAGE_V3_MACHINE_VERSION,
} as const satisfies WorkflowCatalogEntry;

/** IoT incident response: one workflow per sensor alert. */
export const INCIDENT_RESPONSE_WORKFLOW = {
  workflowType: INCIDENT_RESPONSE,
  machine: incidentResponseMachine,
  machineVersion: INCIDENT_RESPONSE_MACHINE_VERSION,
  startEventType: INCIDENT_ALERT_RECEIVED,
  events: {
    [INCIDENT_ALERT_RECEIVED]: IncidentAlertReceived,
    [INCIDENT_ENRICHED]: IncidentEnriched,
    [INCIDENT_DIAGNOSED]: IncidentDiagnosed,
    [ONCALL_PAGED]: OncallPaged,
    [SAFE_ACTION_APPLIED]: SafeActionApplied,
    [APPROVAL_DECIDED]: ApprovalDecided,
    [FIX_EXECUTED]: FixExecuted,
    [INCIDENT_ESCALATED]: IncidentEscalated,
    [INCIDENT_REPORTED]: IncidentReported,
    [EFFECT_FAILED]: EffectFailed,
    [WORKFLOW_CANCEL_REQUESTED]: WorkflowCancelRequested,
  },
} as const satisfies WorkflowCatalogEntry;

/** The payload schema of every event claim processing accepts (both forms of the workflow). */
export const CLAIM_PROCESSING_EVENTS = {
  [CLAIM_SUBMITTED]: ClaimSubmitted,
  [CLAIM_EXTRACTED]: ClaimExtracted,
  [CLAIM_CLASSIFIED]: ClaimClassified,
  [CLAIM_REVIEWED]: ClaimReviewed,
  [APPROVAL_DECIDED]: ApprovalDecided,
  [CLAIM_LETTER_GENERATED]: ClaimLetterGenerated,
  [CLAIM_NOTIFIED]: ClaimNotified,
  [CLAIM_AUDITED]: ClaimAudited,
  [EFFECT_FAILED]: EffectFailed,
  [WORKFLOW_CANCEL_REQUESTED]: WorkflowCancelRequested,
} as const;

/** Insurance claims: one workflow per claim (the TypeScript form; the declared form compiles to the same). */
export const CLAIM_PROCESSING_WORKFLOW = {
  workflowType: CLAIM_PROCESSING,
  machine: claimProcessingMachine,
  machineVersion: CLAIM_PROCESSING_MACHINE_VERSION,
  startEventType: CLAIM_SUBMITTED,
  events: CLAIM_PROCESSING_EVENTS,
} as const satisfies WorkflowCatalogEntry;

/** Every workflow type Troupe knows, one entry per type. */
export const WORKFLOW_CATALOG: readonly WorkflowCatalogEntry[] = [EMAIL_TRIAGE_WORKFLOW, INCIDENT_RESPONSE_WORKFLOW, CLAIM_PROCESSING_WORKFLOW];
