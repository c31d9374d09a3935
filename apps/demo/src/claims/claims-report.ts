import type { ExpectedClaimOutcome } from '@troupe/claims-corpus';
import type { ModelPrice } from '@troupe/telemetry';
import { quantile, stateName } from '../report';
import type { TrackedWorkflow } from '../tracker';

/** Latency figures in ms. */
export interface LatencyFigures {
  count: number;
  p50: number;
  p95: number;
  max: number;
}

/** What the claims demo reports. Rates are in [0, 1]; times in ms; cost in USD. */
export interface ClaimsReport {
  workflows: number;
  byState: Record<string, number>;
  /** Claims whose severity, route and (where labelled) outcome all match the label, over every claim. */
  successRate: number;
  succeeded: number;
  severityAccuracy: number;
  routeAccuracy: number;
  /** Over claims an agent or rule decides (the label names an outcome) that reached a decision. */
  outcomeAccuracy: number;
  outcomesCompared: number;
  /** Claims waiting at a human gate when the report was made. */
  pendingApprovals: number;
  /** Decisions per route tag (`auto`, `senior-agent`, `human`, `manager`, `deadline`). */
  byRoute: Record<string, number>;
  byOutcome: Record<string, number>;
  /** Publish to final state, per route taken, and over all closed claims. */
  latencyMs: Record<string, LatencyFigures>;
  /** Publish to a final state or a pending gate, every settled claim. */
  timeToSettleMs: LatencyFigures;
  modelCalls: number;
  inputTokens: number;
  outputTokens: number;
  /** Null when model calls were made but no price is known for the model. */
  costUsd: number | null;
  elapsedMs: number;
  mismatches: Array<{ workflowId: string; claimId: string; expected: ExpectedClaimOutcome; got: { severity: string | null; route: string | null; outcome: string | null } }>;
}

function figures(values: number[]): LatencyFigures {
  return { count: values.length, p50: quantile(values, 0.5), p95: quantile(values, 0.95), max: quantile(values, 1) };
}

function ratio(part: number, whole: number): number {
  return whole === 0 ? 0 : part / whole;
}

/** The route label a route tag counts as: a manager's decision or a deadline referral followed the human gate. */
function labelRoute(route: string | null): string | null {
  return route === 'manager' || route === 'deadline' ? 'human' : route;
}

/**
 * Builds the claims report from what the tracker saw and the synthetic labels. `price` is the configured
 * model's price (USD per million tokens), if any.
 */
export function buildClaimsReport(
  tracked: TrackedWorkflow[],
  labelOf: (workflowId: string) => { claimId: string; expected: ExpectedClaimOutcome },
  run: { startedAtMs: number; finishedAtMs: number; price: ModelPrice | null },
): ClaimsReport {
  const byState: Record<string, number> = {};
  const byRoute: Record<string, number> = {};
  const byOutcome: Record<string, number> = {};
  const latencies: Record<string, number[]> = { all: [] };
  const settle: number[] = [];
  const mismatches: ClaimsReport['mismatches'] = [];
  let [succeeded, severityRight, routeRight, outcomeRight, outcomesCompared, pendingApprovals, modelCalls, inputTokens, outputTokens] = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  for (const workflow of tracked) {
    const state = stateName(workflow);
    byState[state] = (byState[state] ?? 0) + 1;
    const tags = workflow.last?.tags ?? {};
    const { claimId, expected } = labelOf(workflow.workflowId);
    const severity = tags.severity ?? null;
    const route = tags.route ?? null;
    const outcome = tags.outcome ?? null;
    if (workflow.last?.pendingApproval != null) pendingApprovals += 1;
    if (route !== null) byRoute[route] = (byRoute[route] ?? 0) + 1;
    if (outcome !== null) byOutcome[outcome] = (byOutcome[outcome] ?? 0) + 1;
    modelCalls += Number(tags.modelCalls ?? 0);
    inputTokens += Number(tags.inputTokens ?? 0);
    outputTokens += Number(tags.outputTokens ?? 0);
    // A claim pending at the human gate has taken the human route though no decision is tagged yet.
    const routeTaken = labelRoute(route) ?? (workflow.last?.pendingApproval != null ? 'human' : null);
    const severityOk = severity === expected.severity;
    const routeOk = routeTaken === expected.route;
    const outcomeOk = expected.outcome === null || outcome === expected.outcome;
    if (severityOk) severityRight += 1;
    if (routeOk) routeRight += 1;
    if (expected.outcome !== null && outcome !== null) {
      outcomesCompared += 1;
      if (outcome === expected.outcome) outcomeRight += 1;
    }
    if (severityOk && routeOk && outcomeOk) succeeded += 1;
    else mismatches.push({ workflowId: workflow.workflowId, claimId, expected, got: { severity, route, outcome } });
    if (workflow.publishedAtMs !== null && workflow.settledAtMs !== null) settle.push(workflow.settledAtMs - workflow.publishedAtMs);
    if (workflow.publishedAtMs !== null && workflow.doneAtMs !== null) {
      const ms = workflow.doneAtMs - workflow.publishedAtMs;
      latencies.all.push(ms);
      const key = route ?? state;
      (latencies[key] ??= []).push(ms);
    }
  }
  const costUsd =
    modelCalls === 0 ? 0 : run.price === null ? null : (inputTokens * run.price.inputUsdPerMillionTokens + outputTokens * run.price.outputUsdPerMillionTokens) / 1_000_000;
  return {
    workflows: tracked.length,
    byState,
    successRate: ratio(succeeded, tracked.length),
    succeeded,
    severityAccuracy: ratio(severityRight, tracked.length),
    routeAccuracy: ratio(routeRight, tracked.length),
    outcomeAccuracy: ratio(outcomeRight, outcomesCompared),
    outcomesCompared,
    pendingApprovals,
    byRoute,
    byOutcome,
    latencyMs: Object.fromEntries(Object.entries(latencies).map(([key, values]) => [key, figures(values)])),
    timeToSettleMs: figures(settle),
    modelCalls,
    inputTokens,
    outputTokens,
    costUsd,
    elapsedMs: run.finishedAtMs - run.startedAtMs,
    mismatches,
  };
}
