import type { DetectionEvaluation } from '@troupe/sensor-data';
import { quantile } from '../report';

/** One alert's workflow as the demo saw it. */
export interface IncidentRun {
  workflowId: string;
  alertId: string;
  severity: string;
  /** Final state value (or the state it was left in), outcome and fix decision tags. */
  state: string;
  status: string;
  outcome: string | null;
  decision: string | null;
  diagnoser: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  /** Publish to final state, ms; null when it did not finish. */
  latencyMs: number | null;
}

/** Prices of `TROUPE_MODEL_PRICES`, per model id. */
export type ModelPrices = Record<string, { inputUsdPerMillionTokens: number; outputUsdPerMillionTokens: number }>;

/** The model id of a diagnoser name `chain/<provider>/<modelId>` (a model chain's model answered), or null for an offline one or a fallback. */
function modelIdOf(diagnoser: string | null): string | null {
  if (diagnoser === null || !diagnoser.startsWith('chain/') || diagnoser.startsWith('chain/fallback/')) return null;
  return diagnoser.split(' ')[0].split('/').slice(2).join('/');
}

/** Cost of one run in USD: 0 for offline agents, null for a model without a price. */
export function costUsdOf(run: IncidentRun, prices: ModelPrices): number | null {
  const modelId = modelIdOf(run.diagnoser);
  if (modelId === null) return 0;
  const price = prices[modelId];
  if (price === undefined || (run.inputTokens === null && run.outputTokens === null)) return null;
  return ((run.inputTokens ?? 0) * price.inputUsdPerMillionTokens + (run.outputTokens ?? 0) * price.outputUsdPerMillionTokens) / 1_000_000;
}

const percent = (value: number): string => `${(value * 100).toFixed(1)}%`;

/** Prints the incident demo's report: detection quality against the labels, then every alert's workflow. */
export function printIncidentReport(
  detection: { evaluation: DetectionEvaluation; readings: number; detector: string },
  runs: IncidentRun[],
  meta: { finished: boolean; approve: string; approvalsSent: number; approvalFailures: number; elapsedMs: number; prices: ModelPrices; gatewayUrl: string; runId: string },
): void {
  const { evaluation } = detection;
  console.log('\n=== Incident response report ===');
  console.log(`Detector ${detection.detector} over ${detection.readings} readings of the Suthaharan single-hop sensor network (labels used only here):`);
  const r = evaluation.readings;
  console.log(`  per reading: precision ${percent(r.precision)}  recall ${percent(r.recall)}  (TP ${r.truePositives}  FP ${r.falsePositives}  FN ${r.falseNegatives}; label 1 is positive)`);
  const e = evaluation.events;
  console.log(
    `  per event:   precision ${percent(e.precision)}  recall ${percent(e.recall)}  (${evaluation.alerts} alerts, ${evaluation.labelledEvents} labelled events; an alert is right when it overlaps one)`,
  );
  console.log('  (in-sample: the detector\'s defaults were chosen on this data set; there is no held-out split)');
  const finished = runs.filter((run) => run.status !== 'active').length;
  console.log(`Workflows: ${runs.length}, ${finished} in a final state${meta.finished ? '' : ' (timed out waiting for the rest)'}`);
  const byState = new Map<string, number>();
  for (const run of runs) byState.set(`${run.state}${run.outcome === null ? '' : ` (${run.outcome})`}`, (byState.get(`${run.state}${run.outcome === null ? '' : ` (${run.outcome})`}`) ?? 0) + 1);
  for (const [state, count] of [...byState.entries()].sort((a, b) => b[1] - a[1])) console.log(`  ${state.padEnd(28)} ${String(count).padStart(5)}`);
  console.log('Per workflow (latency: alert published to final state; cost: USD of model calls):');
  let totalCost = 0;
  let unpriced = 0;
  for (const run of runs) {
    const cost = costUsdOf(run, meta.prices);
    if (cost === null) unpriced += 1;
    else totalCost += cost;
    const tokens = run.inputTokens === null && run.outputTokens === null ? 'no model tokens' : `${run.inputTokens ?? 0} in / ${run.outputTokens ?? 0} out tokens`;
    console.log(
      `  ${run.workflowId.padEnd(40)} ${run.severity.padEnd(8)} ${run.state.padEnd(20)} ${(run.outcome ?? '-').padEnd(9)} decision ${(run.decision ?? '-').padEnd(8)} ` +
        `${run.latencyMs === null ? 'unfinished' : `${run.latencyMs.toFixed(0)} ms`}  ${tokens}  ${cost === null ? 'cost unpriced' : `$${cost.toFixed(6)}`}  (${run.diagnoser ?? 'no diagnosis'})`,
    );
  }
  const latencies = runs.flatMap((run) => (run.latencyMs === null ? [] : [run.latencyMs]));
  if (latencies.length > 0) {
    console.log(`Latency per workflow: p50 ${quantile(latencies, 0.5).toFixed(0)} ms, p95 ${quantile(latencies, 0.95).toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms (includes the wait for the human gate)`);
  }
  console.log(`Cost: $${totalCost.toFixed(6)} in all${unpriced > 0 ? `, ${unpriced} workflows used a model without a price in TROUPE_MODEL_PRICES` : ''}; the offline agents make no model calls`);
  console.log(`Elapsed: ${(meta.elapsedMs / 1_000).toFixed(1)} s`);
  if (meta.approve === 'all') {
    console.log(`Approvals decided over HTTP: ${meta.approvalsSent} (${meta.approvalFailures} failed)`);
  } else {
    const waiting = runs.filter((run) => run.status === 'active').length;
    console.log(`\n${waiting} incidents wait for a human at the fix gate. Decide them over HTTP (with --keep-running, which prints the API key), or rerun with --approve all:`);
    console.log(`  curl -H "X-Api-Key: $TROUPE_API_KEY" '${meta.gatewayUrl}/workflows?type=incident-response&idPrefix=incident-${meta.runId}&state=awaitingFixApproval'`);
    console.log(`  curl -X POST -H "X-Api-Key: $TROUPE_API_KEY" -H 'content-type: application/json' -d '{"decision":"approved"}' ${meta.gatewayUrl}/workflows/<workflowId>/approvals`);
  }
}
