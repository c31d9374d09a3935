/**
 * @troupe/claims-corpus: SYNTHETIC insurance claims for the claim-processing workflow, generated from a
 * fixed seed with the outcome each was written to produce (no real claims data is available). Start with
 * {@link generateSyntheticClaims}.
 */
export {
  type ExpectedClaimOutcome,
  type LabelledClaim,
  CLAIM_SCENARIOS,
  type ClaimScenario,
  type SyntheticClaimsOptions,
  SYNTHETIC_CLAIMS_SEED,
  generateSyntheticClaims,
} from './synthetic-claims';
