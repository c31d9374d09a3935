import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { MODEL_ENV_KEYS } from '@troupe/agent-kit';
import { publishEnvelope } from '@troupe/bus';
import { SYNTHETIC_CLAIMS_SEED, generateSyntheticClaims, type ExpectedClaimOutcome } from '@troupe/claims-corpus';
import { BaseEnvironment, CLAIM_PROCESSING, claimSubmittedEnvelope, parseEnvironment, workflowEventTypeSubject } from '@troupe/contracts';
import { parseModelPrices, shutdownTelemetry, type ModelPrice } from '@troupe/telemetry';
import { DEMO_PRINCIPAL_ID, startDemoMesh } from '../demo-mesh';
import { NO_APPROVALS, approveEveryPendingGate } from '../auto-approver';
import { RunTracker } from '../tracker';
import { buildClaimsReport, type ClaimsReport, type LatencyFigures } from './claims-report';

/** Options of {@link runClaimsDemo} (parsed from the demo's command line). */
export interface ClaimsDemoOptions {
  /** Claims to generate and process (default 70: ten per scenario). */
  limit?: number;
  /** `all`: approve every pending human gate over HTTP; `none`: leave them pending. */
  approve: 'all' | 'none';
  /** Give up waiting after this many seconds. */
  timeoutSeconds: number;
  /** Use the apps already running against NATS_URL instead of starting them. */
  externalApps: boolean;
  /** Leave the apps running after the report. */
  keepRunning: boolean;
  /** PRNG seed of the synthetic claims (default {@link SYNTHETIC_CLAIMS_SEED}). */
  seed?: number;
}

const ClaimsDemoEnvironment = BaseEnvironment.extend({
  TROUPE_HTTP_PORT: z.coerce.number().int().min(1).max(65_535).default(3000),
  /** With --external-apps: an API key (role approver or admin) of the running gateway, for --approve all. */
  TROUPE_API_KEY: z.string().min(1).optional(),
  /** The review threshold the apps use and the labels assume, USD (default 10,000). */
  TROUPE_CLAIM_REVIEW_THRESHOLD_USD: z.coerce.number().nonnegative().default(10_000),
});


/**
 * The claims main job: generates SYNTHETIC claims from a fixed seed (labelled with the outcome each was
 * written to produce), runs one claim-processing workflow per claim on the mesh, and reports the success
 * rate against the labels, latency and model cost per workflow, and the approvals pending or decided.
 *
 * @returns the process exit code: 0 when every workflow settled (with `--approve all`: finished) in time.
 */
export async function runClaimsDemo(options: ClaimsDemoOptions): Promise<number> {
  const env = parseEnvironment(ClaimsDemoEnvironment);
  const runId = `${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '')}${randomBytes(2).toString('hex')}`;
  const gatewayUrl = `http://127.0.0.1:${env.TROUPE_HTTP_PORT}`;
  const apiKey = options.externalApps ? env.TROUPE_API_KEY : randomBytes(24).toString('base64url');
  if (apiKey === undefined && options.approve === 'all') throw new Error('--external-apps with --approve all needs TROUPE_API_KEY (an API key with role approver)');
  const seed = options.seed ?? SYNTHETIC_CLAIMS_SEED;
  const claims = generateSyntheticClaims({ seed, count: options.limit ?? 70, reviewThresholdUsd: env.TROUPE_CLAIM_REVIEW_THRESHOLD_USD });

  console.log(`Troupe claim-processing demo, run ${runId}`);
  console.log(`Input: ${claims.length} SYNTHETIC claims (generated from seed ${seed}; no real claims data exists), each labelled with the outcome it was written to produce.`);
  const { nats, stop: stopAll } = await startDemoMesh({
    runId,
    nats: { servers: env.NATS_URL, name: 'troupe-demo-claims', user: env.NATS_USER, pass: env.NATS_PASSWORD },
    streamReplicas: env.TROUPE_STREAM_REPLICAS,
    httpPort: env.TROUPE_HTTP_PORT,
    externalApps: options.externalApps,
    apiKey,
    appEnv: { TROUPE_CLAIM_REVIEW_THRESHOLD_USD: String(env.TROUPE_CLAIM_REVIEW_THRESHOLD_USD) },
  });

  const labels = new Map<string, { claimId: string; expected: ExpectedClaimOutcome }>();
  const workflowIds = claims.map(({ claim, expected }, index) => {
    const workflowId = `claims-${runId}-${String(index).padStart(4, '0')}`;
    labels.set(workflowId, { claimId: claim.claimId, expected });
    return workflowId;
  });
  const tracker = new RunTracker(nats);
  tracker.track(workflowIds);
  const approvals = options.approve === 'all' ? approveEveryPendingGate(tracker, { gatewayUrl, apiKey: apiKey!, comment: 'approved by npm run demo -- --workflow claims --approve all' }) : NO_APPROVALS;
  const startedAt = new Date();
  await tracker.start(new Date(startedAt.getTime() - 1_000));
  const js = nats.jetstream();
  for (const [index, { claim }] of claims.entries()) {
    const workflowId = workflowIds[index];
    const envelope = claimSubmittedEnvelope(workflowId, claim, { source: 'demo', occurredAt: new Date().toISOString() });
    const tracked = tracker.workflows.get(workflowId);
    if (tracked !== undefined) tracked.publishedAtMs = Date.now();
    await publishEnvelope(js, workflowEventTypeSubject(workflowId, envelope.type), envelope, { msgId: envelope.id });
  }
  console.log(`Published ${claims.length} claim.submitted events; waiting for ${options.approve === 'all' ? 'every workflow to finish' : 'every workflow to finish or wait for a human'} …`);
  const finished = await tracker.waitFor(() => {
    const { total, settled, done } = tracker.progress();
    return options.approve === 'all' ? done === total : settled === total;
  }, options.timeoutSeconds * 1_000);
  const finishedAt = Date.now();
  await tracker.stop();

  const report = buildClaimsReport([...tracker.workflows.values()], (id) => labels.get(id)!, {
    startedAtMs: startedAt.getTime(),
    finishedAtMs: finishedAt,
    price: configuredModelPrice(process.env),
  });
  printClaimsReport(report, { finished, approve: options.approve, approvalsSent: approvals.sent(), approvalFailures: approvals.failures(), gatewayUrl, runId, model: process.env[MODEL_ENV_KEYS.provider] ?? null });

  await nats.drain();
  if (options.keepRunning) {
    console.log(`\nThe apps keep running (gateway ${gatewayUrl}); stop them with Ctrl-C.`);
    if (apiKey !== undefined && !options.externalApps) console.log(`This run's API key (identity ${DEMO_PRINCIPAL_ID}, roles operator and approver):\n  export TROUPE_API_KEY='${apiKey}'`);
    await new Promise(() => undefined);
  }
  await stopAll();
  await shutdownTelemetry();
  return finished ? 0 : 1;
}

/** The price of the configured model (`TROUPE_MODEL_NAME` in `TROUPE_MODEL_PRICES`), or null. */
function configuredModelPrice(processEnv: NodeJS.ProcessEnv): ModelPrice | null {
  const name = processEnv[MODEL_ENV_KEYS.modelName];
  if (name === undefined) return null;
  return parseModelPrices(processEnv.TROUPE_MODEL_PRICES)[name] ?? null;
}

function percent(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}

function latency(figures: LatencyFigures): string {
  return figures.count === 0 ? 'none' : `p50 ${figures.p50.toFixed(0)} ms, p95 ${figures.p95.toFixed(0)} ms, max ${figures.max.toFixed(0)} ms (${figures.count})`;
}

function printClaimsReport(
  report: ClaimsReport,
  run: { finished: boolean; approve: string; approvalsSent: number; approvalFailures: number; gatewayUrl: string; runId: string; model: string | null },
): void {
  console.log('\n=== Claims report ===');
  console.log(`Workflows: ${report.workflows}${run.finished ? '' : ' (not all settled before the timeout)'}`);
  console.log('Final or waiting state:');
  for (const [state, count] of Object.entries(report.byState).sort((a, b) => b[1] - a[1])) console.log(`  ${state.padEnd(20)} ${String(count).padStart(6)}`);
  console.log(`Success rate against the synthetic labels: ${percent(report.successRate)} (${report.succeeded}/${report.workflows}: severity, route and, where an agent or rule decides, outcome all as labelled)`);
  console.log(`  severity ${percent(report.severityAccuracy)}  route ${percent(report.routeAccuracy)}  outcome ${percent(report.outcomeAccuracy)} of ${report.outcomesCompared} agent-decided claims`);
  console.log(`  decided by: ${Object.entries(report.byRoute).map(([route, count]) => `${route} ${count}`).join(', ') || 'none yet'}; outcomes: ${Object.entries(report.byOutcome).map(([outcome, count]) => `${outcome} ${count}`).join(', ') || 'none yet'}`);
  for (const mismatch of report.mismatches.slice(0, 5)) {
    console.log(`  differs: ${mismatch.claimId} (${mismatch.expected.scenario}) expected ${mismatch.expected.severity}/${mismatch.expected.route}/${mismatch.expected.outcome ?? 'human'}, got ${mismatch.got.severity}/${mismatch.got.route}/${mismatch.got.outcome}`);
  }
  console.log('Latency per workflow, claim.submitted published to final state:');
  for (const [route, figures] of Object.entries(report.latencyMs)) console.log(`  ${route.padEnd(14)} ${latency(figures)}`);
  console.log(`  to final state or pending gate: ${latency(report.timeToSettleMs)}`);
  const cost =
    report.modelCalls === 0
      ? `no model calls (offline stand-ins${run.model === null ? '; set TROUPE_MODEL_PROVIDER to use a model' : ''}): $0.00`
      : `${report.modelCalls} model calls, ${report.inputTokens} input and ${report.outputTokens} output tokens, ${report.costUsd === null ? 'cost unknown (no price for TROUPE_MODEL_NAME in TROUPE_MODEL_PRICES)' : `$${report.costUsd.toFixed(4)} in all, $${(report.costUsd / Math.max(report.workflows, 1)).toFixed(5)} per workflow`}`;
  console.log(`Cost: ${cost}`);
  if (run.approve === 'all') {
    console.log(`Approvals decided over HTTP: ${run.approvalsSent} (${run.approvalFailures} failed); still pending: ${report.pendingApprovals}`);
  } else {
    console.log(`Approvals pending: ${report.pendingApprovals} (gate claim-review, roles approver/admin; a manager (admin) after the 48 h deadline). Decide them over HTTP (--keep-running prints the API key):`);
    console.log(`  curl -H "X-Api-Key: $TROUPE_API_KEY" '${run.gatewayUrl}/approvals?limit=10'`);
    console.log(`  curl -X POST -H "X-Api-Key: $TROUPE_API_KEY" -H 'content-type: application/json' -d '{"decision":"approved"}' ${run.gatewayUrl}/workflows/<workflowId>/approvals`);
    console.log(`  (or rerun with --approve all; workflow type ${CLAIM_PROCESSING}, ids claims-${run.runId}-*)`);
  }
}
