import type { Claim, ClaimOutcome, ClaimSeverity, ClaimType } from '@troupe/contracts';

/**
 * SYNTHETIC insurance claims. No real claims data is available to Troupe, so this module writes claim
 * forms from a fixed seed (mulberry32, a 32-bit PRNG; same seed, same claims, on every machine), each
 * with the outcome its scenario was written to produce. The names, policies and amounts are invented.
 *
 * Scenarios (every branch of `claim-processing`):
 * - `routine`: a small loss, no injuries, no report → low → auto-approved;
 * - `covered-medium`: a larger covered loss → medium → the senior reviewer approves;
 * - `excluded-medium`: a larger loss the policy excludes (wear and tear, …) → medium → the senior reviewer declines;
 * - `police-report`: a small loss with a police report → medium → the senior reviewer approves;
 * - `injury`: someone was hurt → high → human review;
 * - `grave-loss`: a fire, a total loss, a hospital stay → high → human review;
 * - `over-threshold`: a loss over the review threshold → medium by amount → human review by amount.
 */

/** What a synthetic claim was written to produce. */
export interface ExpectedClaimOutcome {
  scenario: ClaimScenario;
  severity: ClaimSeverity;
  /** The path that decides it: auto-approval, the senior reviewer agent, or a human. */
  route: 'auto' | 'senior-agent' | 'human';
  /** The decision, where an agent or rule makes it; null where a human decides. */
  outcome: ClaimOutcome | null;
}

/** A synthetic claim and its label. */
export interface LabelledClaim {
  claim: Claim;
  expected: ExpectedClaimOutcome;
}

/** The scenarios, in the order the generator cycles through them. */
export const CLAIM_SCENARIOS = ['routine', 'covered-medium', 'excluded-medium', 'police-report', 'injury', 'grave-loss', 'over-threshold'] as const;
export type ClaimScenario = (typeof CLAIM_SCENARIOS)[number];

/** Options of {@link generateSyntheticClaims}. */
export interface SyntheticClaimsOptions {
  /** PRNG seed (default 8). */
  seed?: number;
  /** Number of claims (default 70: ten per scenario). */
  count?: number;
  /** The review threshold the labels assume, USD (default 10,000, the orchestrator's default). Over-threshold claims exceed it; no other claim reaches it. */
  reviewThresholdUsd?: number;
}

/** The default seed. */
export const SYNTHETIC_CLAIMS_SEED = 8;

/** mulberry32 (Tommy Ettinger's 32-bit generator): a function returning numbers in [0, 1). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const FIRST_NAMES = ['Ada', 'Bram', 'Chiara', 'Dev', 'Elif', 'Femi', 'Greta', 'Hiro', 'Ines', 'Jonas', 'Kalani', 'Lior', 'Maya', 'Nils', 'Oona', 'Pavel'];
const LAST_NAMES = ['Okafor', 'Lindqvist', 'Moreau', 'Tanaka', 'Silva', 'Novak', 'Haddad', 'Quinn', 'Rossi', 'Schmidt', 'Yilmaz', 'Zhou'];

/** Descriptions per scenario and claim type; none of the routine or covered ones names an exclusion or a grave loss. */
const DESCRIPTIONS: Record<ClaimScenario, Array<[ClaimType, string]>> = {
  routine: [
    ['auto', 'A shopping trolley scratched the passenger door in a car park.'],
    ['travel', 'My checked suitcase arrived two days late and I bought toiletries and clothes.'],
    ['property', 'A storm cracked one pane of the kitchen window.'],
    ['liability', 'My dog chewed a neighbour\u2019s garden hose.'],
  ],
  'covered-medium': [
    ['auto', 'Another driver reversed into my parked car and dented the rear bumper and tailgate.'],
    ['property', 'A burst pipe under the bathroom floor soaked the hallway carpet and skirting boards.'],
    ['travel', 'My flight was cancelled and I paid for two nights in a hotel and a new ticket.'],
    ['health', 'I needed three physiotherapy sessions and a brace after twisting my knee.'],
  ],
  'excluded-medium': [
    ['auto', 'The clutch gave out after years of wear and tear and had to be replaced.'],
    ['property', 'The roof has leaked for months through gradual damage to the flashing.'],
    ['health', 'Treatment for a pre-existing back condition that flared up again.'],
    ['auto', 'The engine was damaged during an amateur racing event at the track.'],
  ],
  'police-report': [
    ['property', 'Someone broke into the shed and stole two bicycles.'],
    ['auto', 'My car was broken into overnight and the radio was taken.'],
    ['travel', 'My wallet and phone were stolen on a train.'],
  ],
  injury: [
    ['auto', 'A van ran a red light and hit my car; my passenger hurt her neck.'],
    ['liability', 'A visitor slipped on our wet stairs and broke her wrist.'],
    ['health', 'I fell from a ladder while painting and cracked two ribs.'],
  ],
  'grave-loss': [
    ['property', 'A kitchen fire spread to the living room before the firefighters arrived.'],
    ['auto', 'The car was written off as a total loss after sliding into a ditch.'],
    ['travel', 'I was taken to hospital abroad with appendicitis and flown home.'],
  ],
  'over-threshold': [
    ['property', 'A tree fell through the garage roof in a storm and crushed the workbench and tools.'],
    ['auto', 'Hail dented every panel of the car and broke the windscreen.'],
    ['liability', 'Water from our flat leaked into the flat below and ruined their ceiling.'],
  ],
};

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}

function amount(random: () => number, min: number, max: number): number {
  return Math.round((min + random() * (max - min)) * 100) / 100;
}

function usd(value: number): string {
  return `$${value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** The generated claims, with labels: deterministic for a seed, count and threshold. */
export function generateSyntheticClaims(options: SyntheticClaimsOptions = {}): LabelledClaim[] {
  const seed = options.seed ?? SYNTHETIC_CLAIMS_SEED;
  const count = options.count ?? CLAIM_SCENARIOS.length * 10;
  const threshold = options.reviewThresholdUsd ?? 10_000;
  const random = mulberry32(seed);
  const claims: LabelledClaim[] = [];
  for (let index = 0; index < count; index += 1) {
    const scenario = CLAIM_SCENARIOS[index % CLAIM_SCENARIOS.length];
    const [claimType, description] = pick(random, DESCRIPTIONS[scenario]);
    const first = pick(random, FIRST_NAMES);
    const last = pick(random, LAST_NAMES);
    const mediumMax = Math.min(9_500, threshold);
    const claimed =
      scenario === 'routine' || scenario === 'police-report'
        ? amount(random, 80, 2_400)
        : scenario === 'over-threshold'
          ? amount(random, threshold + 500, threshold * 4)
          : amount(random, 2_600, mediumMax);
    const injured = scenario === 'injury';
    const report = scenario === 'police-report' || (scenario === 'injury' && random() < 0.5);
    const day = 1 + Math.floor(random() * 28);
    const month = 1 + Math.floor(random() * 10);
    const incidentDate = `2026-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
    const policyNumber = `POL-${String(Math.floor(random() * 900_000) + 100_000)}`;
    const claimId = `CLM-S${seed}-${String(index + 1).padStart(4, '0')}`;
    const text = [
      `SYNTHETIC CLAIM FORM (generated, seed ${seed}; not a real claim)`,
      `Claimant: ${first} ${last}`,
      `Policy number: ${policyNumber}`,
      `Type of claim: ${claimType}`,
      `Date of incident: ${incidentDate}`,
      `Amount claimed: ${usd(claimed)}`,
      `Anyone injured: ${injured ? 'yes' : 'no'}`,
      `Police report: ${report ? 'yes' : 'no'}`,
      `What happened: ${description}`,
    ].join('\n');
    const claim: Claim = {
      claimId,
      claimant: { name: `${first} ${last}`, email: `${first}.${last}@example.com`.toLowerCase() },
      text,
      origin: { corpus: 'synthetic-claims', seed: String(seed), index: String(index) },
    };
    claims.push({ claim, expected: expectationOf(scenario) });
  }
  return claims;
}

function expectationOf(scenario: ClaimScenario): ExpectedClaimOutcome {
  switch (scenario) {
    case 'routine':
      return { scenario, severity: 'low', route: 'auto', outcome: 'approved' };
    case 'covered-medium':
    case 'police-report':
      return { scenario, severity: 'medium', route: 'senior-agent', outcome: 'approved' };
    case 'excluded-medium':
      return { scenario, severity: 'medium', route: 'senior-agent', outcome: 'rejected' };
    case 'injury':
    case 'grave-loss':
      return { scenario, severity: 'high', route: 'human', outcome: null };
    case 'over-threshold':
      return { scenario, severity: 'medium', route: 'human', outcome: null };
  }
}
