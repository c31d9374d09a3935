import type { ReplayDefinition } from '@troupe/actor-runtime';
import { CLAIM_PROCESSING, EMAIL_TRIAGE } from '@troupe/contracts';
import {
  CLAIM_PROCESSING_MACHINE_VERSION,
  EMAIL_TRIAGE_MACHINE_VERSION,
  claimProcessingMachine,
  claimProcessingTags,
  emailTriageMachine,
  emailTriageTags,
  type ClaimProcessingContext,
  type EmailTriageContext,
} from '@troupe/statecharts';

/**
 * The machines the gateway replays and forks with, one per `<workflowType>@<machineVersion>` still in
 * any journal: add the previous version here when a machine's version is bumped, or older journals can
 * no longer be replayed. Pure machines only; the orchestrator's configuration is not needed because
 * each journal's start entry records the machine input.
 */
export const HISTORY_DEFINITIONS: readonly ReplayDefinition[] = [
  {
    workflowType: EMAIL_TRIAGE,
    machineVersion: EMAIL_TRIAGE_MACHINE_VERSION,
    machine: emailTriageMachine,
    tags: (snapshot: { context: EmailTriageContext }) => emailTriageTags(snapshot.context),
  },
  {
    workflowType: CLAIM_PROCESSING,
    machineVersion: CLAIM_PROCESSING_MACHINE_VERSION,
    machine: claimProcessingMachine,
    tags: (snapshot: { context: ClaimProcessingContext }) => claimProcessingTags(snapshot.context),
  },
];
