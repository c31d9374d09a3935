import { defineWorkflow, type WorkflowDefinition } from '@troupe/actor-runtime';
import type { EmailReceived } from '@troupe/contracts';
import { EMAIL_TRIAGE_V3_WORKFLOW, EMAIL_TRIAGE_WORKFLOW, emailTriageTags, emailTriageV3Tags, type EmailTriageInput, type WorkflowCatalogEntry } from '@troupe/statecharts';
import type { AnyStateMachine, InputFrom, SnapshotFrom } from 'xstate';

/** The orchestrator's triage settings, the same for every version of the machine. */
export interface EmailTriageSettings {
  /** Classifications with confidence below this (in [0, 1]) go to human review. */
  confidenceThreshold: number;
  /** How long a gate waits before it escalates to an admin (ms). */
  approvalTimeoutMs: number;
  /** How long an escalated gate waits before its automatic outcome (ms). */
  escalationTimeoutMs: number;
}

/**
 * Binds one version of the email-triage machine to the bus: start event, payload schemas (from the
 * catalog the gateway reads too), input (the email and the settings) and tags (the version's own).
 */
function bindEmailTriage<TMachine extends AnyStateMachine>(
  entry: WorkflowCatalogEntry & { machine: TMachine },
  tags: (snapshot: SnapshotFrom<TMachine>) => Record<string, string>,
  settings: EmailTriageSettings,
): WorkflowDefinition<TMachine> {
  return defineWorkflow({
    ...entry,
    // Every version takes the same input (v4 kept v3's); `satisfies` checks it against the latest.
    input: ({ workflowId, payload }) =>
      ({
        workflowId,
        email: (payload as EmailReceived).email,
        confidenceThreshold: settings.confidenceThreshold,
        approvalTimeoutMs: settings.approvalTimeoutMs,
        escalationTimeoutMs: settings.escalationTimeoutMs,
      }) satisfies EmailTriageInput as InputFrom<TMachine>,
    tags,
  });
}

/** The latest email-triage definition (new instances start on it). */
export function emailTriageWorkflow(settings: EmailTriageSettings) {
  return bindEmailTriage(EMAIL_TRIAGE_WORKFLOW, (snapshot) => emailTriageTags(snapshot.context), settings);
}

/**
 * Every email-triage version the orchestrator hosts, oldest first: the latest for new instances, and
 * each previous one whose instances may still be running (they continue on it until they finish or
 * are migrated). Drop a version only when no instance is on it.
 */
export function emailTriageWorkflows(settings: EmailTriageSettings): WorkflowDefinition[] {
  return [bindEmailTriage(EMAIL_TRIAGE_V3_WORKFLOW, (snapshot) => emailTriageV3Tags(snapshot.context), settings), emailTriageWorkflow(settings)];
}
