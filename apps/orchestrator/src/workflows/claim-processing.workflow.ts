import { defineWorkflow } from '@troupe/actor-runtime';
import type { ClaimSubmitted } from '@troupe/contracts';
import { CLAIM_PROCESSING_WORKFLOW, claimProcessingTags } from '@troupe/statecharts';

/** Settings of claim processing (from the orchestrator's environment). */
export interface ClaimProcessingSettings {
  /** Claims of more than this (USD) go to human review whatever their severity. */
  reviewThresholdUsd: number;
  /** Review gate deadline before escalation to a manager, ms. */
  reviewTimeoutMs: number;
  /** Escalated gate deadline before referral to the claims committee, ms. */
  escalationTimeoutMs: number;
}

/** Binds the claim-processing machine to the bus: start event, payload schemas, input and tags. */
export function claimProcessingWorkflow(settings: ClaimProcessingSettings) {
  return defineWorkflow({
    ...CLAIM_PROCESSING_WORKFLOW,
    input: ({ workflowId, payload }) => ({
      workflowId,
      claim: (payload as ClaimSubmitted).claim,
      reviewThresholdUsd: settings.reviewThresholdUsd,
      reviewTimeoutMs: settings.reviewTimeoutMs,
      escalationTimeoutMs: settings.escalationTimeoutMs,
    }),
    tags: (snapshot) => claimProcessingTags(snapshot.context),
  });
}
