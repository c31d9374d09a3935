import type { ReplayDefinition } from '@troupe/actor-runtime';
import { reactLoopWorkflow, supervisorRoutingWorkflow } from '@troupe/agent-kit';
import { CLAIM_PROCESSING, EMAIL_TRIAGE } from '@troupe/contracts';
import {
  CLAIM_PROCESSING_MACHINE_VERSION,
  EMAIL_TRIAGE_MACHINE_VERSION,
  EMAIL_TRIAGE_V3_MACHINE_VERSION,
  INCIDENT_RESPONSE_WORKFLOW,
  claimProcessingMachine,
  claimProcessingTags,
  emailTriageMachine,
  emailTriageTags,
  emailTriageV3Machine,
  emailTriageV3Tags,
  incidentResponseTags,
  type ClaimProcessingContext,
  type EmailTriageContext,
  type EmailTriageV3Context,
  type IncidentResponseContext,
} from '@troupe/statecharts';

/**
 * The machines the gateway replays and forks with, one per `<workflowType>@<machineVersion>` still in
 * any journal: add the previous version here when a machine's version is bumped, or older journals can
 * no longer be replayed. Pure machines only; the orchestrator's configuration is not needed because
 * each journal's start entry records the machine input.
 */
export const HISTORY_DEFINITIONS: readonly ReplayDefinition[] = [
  // email-triage@3 (frozen) for its journals and for the 3 -> 4 migration's source instances.
  {
    workflowType: EMAIL_TRIAGE,
    machineVersion: EMAIL_TRIAGE_V3_MACHINE_VERSION,
    machine: emailTriageV3Machine,
    tags: (snapshot: { context: EmailTriageV3Context }) => emailTriageV3Tags(snapshot.context),
  },
  {
    workflowType: EMAIL_TRIAGE,
    machineVersion: EMAIL_TRIAGE_MACHINE_VERSION,
    machine: emailTriageMachine,
    tags: (snapshot: { context: EmailTriageContext }) => emailTriageTags(snapshot.context),
  },
  { ...INCIDENT_RESPONSE_WORKFLOW, tags: (snapshot: { context: IncidentResponseContext }) => incidentResponseTags(snapshot.context) },
  // Agent runs and supervisor routings are actors with journals too (hosted by the orchestrator).
  reactLoopWorkflow(),
  // The specialists' result schemas only parse events at the edge; replay needs the machine and tags.
  supervisorRoutingWorkflow({}),
  {
    workflowType: CLAIM_PROCESSING,
    machineVersion: CLAIM_PROCESSING_MACHINE_VERSION,
    machine: claimProcessingMachine,
    tags: (snapshot: { context: ClaimProcessingContext }) => claimProcessingTags(snapshot.context),
  },
];
