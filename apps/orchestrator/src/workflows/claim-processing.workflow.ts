import { readFileSync } from 'node:fs';
import path from 'node:path';
import { defineWorkflow } from '@troupe/actor-runtime';
import type { ClaimSubmitted } from '@troupe/contracts';
import {
  CLAIM_PROCESSING_REGISTRY,
  CLAIM_PROCESSING_WORKFLOW,
  claimProcessingTags,
  loadDeclaredWorkflow,
  type ClaimProcessingContext,
  type CompiledWorkflow,
  type WorkflowCatalogEntry,
} from '@troupe/statecharts';

/** Settings of claim processing (from the orchestrator's environment). */
export interface ClaimProcessingSettings {
  /** Claims of more than this (USD) go to human review whatever their severity. */
  reviewThresholdUsd: number;
  /** Review gate deadline before escalation to a manager, ms. */
  reviewTimeoutMs: number;
  /** Escalated gate deadline before referral to the claims committee, ms. */
  escalationTimeoutMs: number;
}

/** Where the declared form of claim processing lives in the source tree (a bundle passes its own path). */
export const CLAIM_PROCESSING_YAML_PATH = path.resolve(__dirname, '..', '..', '..', '..', 'statecharts', 'claim-processing', 'claim-processing.workflow.yaml');

/**
 * The declared form of claim processing, read from `file` and compiled against the claim registry.
 *
 * @throws DeclaredWorkflowError when the document is invalid (every issue with its line); Error when the file cannot be read.
 */
export function declaredClaimProcessing(file: string = CLAIM_PROCESSING_YAML_PATH): CompiledWorkflow {
  return loadDeclaredWorkflow(readFileSync(file, 'utf8'), CLAIM_PROCESSING_REGISTRY, { source: path.relative(process.cwd(), file) });
}

/**
 * Binds claim processing to the bus: start event, payload schemas, input and tags. `entry` is the
 * TypeScript form from the catalog by default, or the declared form ({@link declaredClaimProcessing}).
 */
export function claimProcessingWorkflow(settings: ClaimProcessingSettings, entry: WorkflowCatalogEntry = CLAIM_PROCESSING_WORKFLOW) {
  return defineWorkflow({
    workflowType: entry.workflowType,
    machine: entry.machine,
    machineVersion: entry.machineVersion,
    startEventType: entry.startEventType,
    events: entry.events,
    input: ({ workflowId, payload }) => ({
      workflowId,
      claim: (payload as ClaimSubmitted).claim,
      reviewThresholdUsd: settings.reviewThresholdUsd,
      reviewTimeoutMs: settings.reviewTimeoutMs,
      escalationTimeoutMs: settings.escalationTimeoutMs,
    }),
    tags: (snapshot) => claimProcessingTags((snapshot as { context: ClaimProcessingContext }).context),
  });
}
