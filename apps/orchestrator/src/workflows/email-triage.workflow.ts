import { defineWorkflow } from '@troupe/actor-runtime';
import {
  ApprovalDecided,
  EMAIL_TRIAGE,
  EmailClassified,
  EmailQuarantined,
  EmailReceived,
  EmailRouted,
  EmailSummarised,
  EffectFailed,
  ReplyDrafted,
  ReplySent,
  WorkflowCancelRequested,
} from '@troupe/contracts';
import { EMAIL_TRIAGE_MACHINE_VERSION, emailTriageMachine, emailTriageTags } from '@troupe/statecharts';

/** Binds the email-triage machine to the bus: start event, payload schemas, input and tags. */
export function emailTriageWorkflow(settings: { confidenceThreshold: number; approvalTimeoutMs: number; escalationTimeoutMs: number }) {
  return defineWorkflow({
    workflowType: EMAIL_TRIAGE,
    machine: emailTriageMachine,
    machineVersion: EMAIL_TRIAGE_MACHINE_VERSION,
    startEventType: 'email.received',
    events: {
      'email.received': EmailReceived,
      'email.classified': EmailClassified,
      'email.quarantined': EmailQuarantined,
      'email.routed': EmailRouted,
      'email.summarised': EmailSummarised,
      'reply.drafted': ReplyDrafted,
      'approval.decided': ApprovalDecided,
      'reply.sent': ReplySent,
      'effect.failed': EffectFailed,
      'workflow.cancel_requested': WorkflowCancelRequested,
    },
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
