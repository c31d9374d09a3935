import {
  ApprovalDecided,
  ClaimAudited,
  ClaimClassified,
  ClaimExtracted,
  ClaimLetterGenerated,
  ClaimNotified,
  ClaimReviewed,
  ClaimSubmitted,
  EffectFailed,
  WorkflowCancelRequested,
} from '@troupe/contracts';
import type { DeclaredWorkflowRegistry } from '../declared/declared-workflow';
import { claimActions, claimDelays, claimEffects, claimGateTexts, claimGuards, claimProcessingContext } from './claim-processing.implementations';

/**
 * The named pieces `claim-processing.workflow.yaml` refers to: the same implementations the TypeScript
 * machine names in `setup`, and the contract schemas by their exported names.
 */
export const CLAIM_PROCESSING_REGISTRY = {
  context: claimProcessingContext,
  actions: claimActions,
  guards: claimGuards,
  delays: claimDelays,
  effects: claimEffects,
  texts: claimGateTexts,
  schemas: {
    ClaimSubmitted,
    ClaimExtracted,
    ClaimClassified,
    ClaimReviewed,
    ApprovalDecided,
    ClaimLetterGenerated,
    ClaimNotified,
    ClaimAudited,
    EffectFailed,
    WorkflowCancelRequested,
  },
} as unknown as DeclaredWorkflowRegistry;
