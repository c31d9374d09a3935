import './instrumentation';
import 'reflect-metadata';
import { createHash, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { SingleBar, Presets } from 'cli-progress';
import { z } from 'zod';
import { natsSettingsFromEnvironment, publishEnvelope } from '@troupe/bus';
import { BaseEnvironment, emailReceivedEnvelope, parseEnvironment, workflowEventTypeSubject } from '@troupe/contracts';
import { loadSpamAssassinCorpus, parseCorpusEmail, splitOf, type CorpusEmail } from '@troupe/email-corpus';
import { shutdownTelemetry } from '@troupe/telemetry';
import { runClaimsDemo } from './claims/claims-demo';
import { runIncidentDemo } from './incidents/run-incidents';
import { buildReport, type DemoReport } from './report';
import { DEMO_PRINCIPAL_ID, startDemoMesh } from './demo-mesh';
import { NO_APPROVALS, approveEveryPendingGate } from './auto-approver';
import { RunTracker } from './tracker';

const DemoEnvironment = BaseEnvironment.extend({
  TROUPE_HTTP_PORT: z.coerce.number().int().min(1).max(65_535).default(3000),
  /** With --external-apps: an API key (role approver or admin) of the running gateway, for --approve all. */
  TROUPE_API_KEY: z.string().min(1).optional(),
});

/** The identity the demo's API key stands for (roles operator and approver). */

const USAGE = `npm run demo -- [--workflow triage|incidents|claims] [--limit N] [--approve all|none] [--timeout SECONDS] [--external-apps] [--keep-running]

Triages the SpamAssassin corpus on the Troupe mesh: one email-triage workflow per email.
  --limit N         publish only the first N emails (default: all 6,046)
  --approve MODE    none (default): leave drafted replies and low-confidence reviews waiting for a human;
                    all: act as an operator over HTTP and approve every pending decision
  --timeout S       give up waiting after S seconds (default 1800)
  --external-apps   do not start the apps; use the ones already running against NATS_URL
                    (with --approve all, TROUPE_API_KEY must hold an approver's API key for that gateway)
  --keep-running    leave the apps (and a NATS server the demo started) running after the report
  --workflow W      triage (default); incidents: one incident-response workflow per alert the anomaly
                    detector raises on the Suthaharan sensor readings; reports detection precision/recall;
                    claims: SYNTHETIC insurance claims (seeded), one claim-processing workflow per claim,
                    reported against their labels (--limit N claims, default 70)
  --threshold Z     with --workflow incidents: the detector's robust |z| threshold (default 8)`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      limit: { type: 'string' },
      approve: { type: 'string', default: 'none' },
      timeout: { type: 'string', default: '1800' },
      'external-apps': { type: 'boolean', default: false },
      'keep-running': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
      workflow: { type: 'string', default: 'triage' },
      threshold: { type: 'string' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.workflow === 'claims') {
    const claims = z
      .object({ limit: z.coerce.number().int().positive().optional(), approve: z.enum(['all', 'none']), timeout: z.coerce.number().positive() })
      .parse({ limit: values.limit, approve: values.approve, timeout: values.timeout });
    process.exitCode = await runClaimsDemo({ ...claims, timeoutSeconds: claims.timeout, externalApps: values['external-apps'], keepRunning: values['keep-running'] });
    return;
  }
  if (values.workflow === 'incidents') {
    const incidentOptions = z
      .object({ approve: z.enum(['all', 'none']), timeout: z.coerce.number().positive(), threshold: z.coerce.number().positive().optional() })
      .parse({ approve: values.approve, timeout: values.timeout, threshold: values.threshold });
    const incidentEnv = parseEnvironment(DemoEnvironment);
    process.exitCode = await runIncidentDemo({
      natsUrl: incidentEnv.NATS_URL,
      natsUser: incidentEnv.NATS_USER,
      natsPassword: incidentEnv.NATS_PASSWORD,
      streamReplicas: incidentEnv.TROUPE_STREAM_REPLICAS,
      httpPort: incidentEnv.TROUPE_HTTP_PORT,
      approve: incidentOptions.approve,
      timeoutSeconds: incidentOptions.timeout,
      externalApps: values['external-apps'],
      keepRunning: values['keep-running'],
      apiKey: incidentEnv.TROUPE_API_KEY,
      threshold: incidentOptions.threshold,
    });
    await shutdownTelemetry();
    return;
  }
  if (values.workflow !== 'triage') throw new Error(`--workflow must be triage, incidents or claims, got ${values.workflow}`);
  const options = z
    .object({
      limit: z.coerce.number().int().positive().optional(),
      approve: z.enum(['all', 'none']),
      timeout: z.coerce.number().positive(),
    })
    .parse({ limit: values.limit, approve: values.approve, timeout: values.timeout });
  const env = parseEnvironment(DemoEnvironment);
  const runId = `${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '')}${randomBytes(2).toString('hex')}`;
  const gatewayUrl = `http://127.0.0.1:${env.TROUPE_HTTP_PORT}`;
  // A fresh API key per run: the gateway gets only its SHA-256; the demo (and you, with --keep-running) use the key.
  const apiKey = values['external-apps'] ? env.TROUPE_API_KEY : randomBytes(24).toString('base64url');
  if (apiKey === undefined && options.approve === 'all') throw new Error('--external-apps with --approve all needs TROUPE_API_KEY (an API key with role approver)');

  console.log(`Troupe inbox-triage demo, run ${runId}`);
  const { nats, stop: stopAll } = await startDemoMesh({
    runId,
    nats: natsSettingsFromEnvironment(env, 'troupe-demo'),
    provisionStreams: env.TROUPE_PROVISION_STREAMS,
    streamReplicas: env.TROUPE_STREAM_REPLICAS,
    httpPort: env.TROUPE_HTTP_PORT,
    externalApps: values['external-apps'] === true,
    apiKey,
  });

  // A fixed pseudo-random order (SHA-256 of each id), so that any --limit is a mix of every group,
  // the same mix on every run.
  const corpus = loadSpamAssassinCorpus()
    .map((email) => ({ email, rank: createHash('sha256').update(`demo-order:${email.corpusId}`).digest('hex') }))
    .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0))
    .map(({ email }) => email)
    .slice(0, options.limit);
  const byWorkflow = new Map<string, { email: CorpusEmail; split: 'train' | 'test' }>();
  const workflowIds = corpus.map((email, index) => {
    const workflowId = `triage-${runId}-${String(index).padStart(5, '0')}`;
    byWorkflow.set(workflowId, { email, split: splitOf(email.corpusId) });
    return workflowId;
  });
  const tracker = new RunTracker(nats);
  tracker.track(workflowIds);
  const approvals = options.approve === 'all' ? approveEveryPendingGate(tracker, { gatewayUrl, apiKey: apiKey!, comment: 'approved by npm run demo -- --approve all' }) : NO_APPROVALS;
  const startedAt = new Date();
  await tracker.start(new Date(startedAt.getTime() - 1_000));

  const bar = new SingleBar(
    { format: ' {bar} {percentage}% | {value}/{total} settled | published {published} | {rate}/s', hideCursor: true, clearOnComplete: false, noTTYOutput: true, notTTYSchedule: 5_000 },
    Presets.shades_classic,
  );
  bar.start(corpus.length, 0, { published: 0, rate: '0.0' });
  const js = nats.jetstream();
  let published = 0;
  const render = (): void => {
    const { settled, done } = tracker.progress();
    const value = options.approve === 'all' ? done : settled;
    const seconds = (Date.now() - startedAt.getTime()) / 1_000;
    bar.update(value, { published, rate: (value / Math.max(seconds, 0.001)).toFixed(1) });
  };
  const ticker = setInterval(render, 200);

  // Publish with a bounded number of emails in flight (parsing + JetStream ack).
  let next = 0;
  const publishOne = async (): Promise<void> => {
    while (next < corpus.length) {
      const index = next++;
      const workflowId = workflowIds[index];
      const email = await parseCorpusEmail(corpus[index]);
      const envelope = emailReceivedEnvelope(workflowId, email, { source: 'demo', occurredAt: new Date().toISOString() });
      const tracked = tracker.workflows.get(workflowId);
      if (tracked !== undefined) tracked.publishedAtMs = Date.now();
      await publishEnvelope(js, workflowEventTypeSubject(workflowId, envelope.type), envelope, { msgId: envelope.id });
      published += 1;
    }
  };
  await Promise.all(Array.from({ length: 64 }, () => publishOne()));

  const finished = await tracker.waitFor(() => {
    const { total, settled, done } = tracker.progress();
    return options.approve === 'all' ? done === total : settled === total;
  }, options.timeout * 1_000);
  clearInterval(ticker);
  render();
  bar.stop();
  const finishedAt = Date.now();
  await tracker.stop();

  const report = buildReport([...tracker.workflows.values()], (id) => byWorkflow.get(id)!, startedAt.getTime(), finishedAt, tracker.agentRuns.values());
  printReport(report, { finished, approve: options.approve, approvalsSent: approvals.sent(), approvalFailures: approvals.failures(), gatewayUrl, runId });

  await nats.drain();
  if (values['keep-running']) {
    console.log(`\nThe apps keep running (gateway ${gatewayUrl}, OpenAPI at ${gatewayUrl}/docs); stop them with Ctrl-C.`);
    if (apiKey !== undefined && !values['external-apps']) {
      console.log(`This run's API key (identity ${DEMO_PRINCIPAL_ID}, roles operator and approver):`);
      console.log(`  export TROUPE_API_KEY='${apiKey}'`);
      console.log(`  curl -H "X-Api-Key: $TROUPE_API_KEY" '${gatewayUrl}/approvals?limit=10'`);
    }
    await new Promise(() => undefined);
  }
  await stopAll();
  await shutdownTelemetry();
  process.exitCode = finished ? 0 : 1;
}

function percent(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}

function printReport(
  report: DemoReport,
  run: { finished: boolean; approve: string; approvalsSent: number; approvalFailures: number; gatewayUrl: string; runId: string },
): void {
  const q = report.heldOut;
  console.log('\n=== Report ===');
  console.log(`Workflows: ${report.workflows}${run.finished ? '' : ` (${report.unsettled} not settled before the timeout)`}`);
  console.log('Final or waiting state:');
  for (const [state, count] of Object.entries(report.byState).sort((a, b) => b[1] - a[1])) {
    console.log(`  ${state.padEnd(20)} ${String(count).padStart(6)}`);
  }
  const handedOver = Object.entries(report.handedToHumanByAgent);
  if (handedOver.length > 0) {
    console.log(`Agent failures handed to a human (instead of failing the workflow): ${handedOver.map(([agent, count]) => `${agent} ${count}`).join(', ')}`);
  }
  console.log(`Spam vs ham on the held-out split (${q.evaluated} emails the classifier never trained on; ${report.trainingSplitWorkflows} training-split emails excluded):`);
  console.log(`  precision ${percent(q.precision)}  recall ${percent(q.recall)}  accuracy ${percent(q.accuracy)}`);
  console.log(`  TP ${q.truePositives}  FP ${q.falsePositives}  TN ${q.trueNegatives}  FN ${q.falseNegatives}  (spam is positive)`);
  console.log(
    `Time per workflow, publish to final state or pending approval: p50 ${report.timeToSettleMs.p50.toFixed(0)} ms, p95 ${report.timeToSettleMs.p95.toFixed(0)} ms, max ${report.timeToSettleMs.max.toFixed(0)} ms`,
  );
  console.log(`Throughput: ${report.throughputPerSecond.toFixed(1)} workflows/s over ${(report.elapsedMs / 1_000).toFixed(1)} s`);
  if (report.slowest !== null) {
    const trace = report.slowest.traceId === null ? 'no trace id (tracing is off: set OTEL_EXPORTER_OTLP_ENDPOINT, see README "Traces in Jaeger")' : `trace ${report.slowest.traceId}`;
    console.log(`Slowest workflow: ${report.slowest.workflowId} (${report.slowest.timeToSettleMs.toFixed(0)} ms), ${trace}`);
  }
  const agents = report.agents;
  if (agents.runs === 0) {
    console.log('Agent runs (ReAct): none (no model configured and TROUPE_REACT_LOOP is not always: the offline specialists answered directly)');
  } else {
    console.log(`Agent runs (ReAct): ${agents.runs} for ${agents.workflowsWithRuns} workflows`);
    console.log(`  tokens per workflow: p50 ${agents.tokens.perWorkflowP50}, max ${agents.tokens.perWorkflowMax}, total ${agents.tokens.total}`);
    console.log(
      `  cost per workflow: p50 ${agents.costUsd.perWorkflowP50.toFixed(6)} USD, max ${agents.costUsd.perWorkflowMax.toFixed(6)} USD, total ${agents.costUsd.total.toFixed(6)} USD (prices from TROUPE_MODEL_PRICES)`,
    );
    console.log(`  steps served by: ${Object.entries(agents.stepsServedBy).sort((a, b) => b[1] - a[1]).map(([model, steps]) => `${model} ${steps}`).join(', ')}`);
  }
  if (run.approve === 'all') {
    console.log(`Approvals decided over HTTP: ${run.approvalsSent} (${run.approvalFailures} failed)`);
  } else {
    const waiting = (report.byState.awaitingApproval ?? 0) + (report.byState.humanReview ?? 0);
    console.log(`\n${waiting} workflows wait for a human. Decide them over HTTP (the apps must be running: --keep-running, which prints the API key):`);
    console.log(`  curl -H "X-Api-Key: $TROUPE_API_KEY" '${run.gatewayUrl}/approvals?limit=10'`);
    console.log(`  curl -H "X-Api-Key: $TROUPE_API_KEY" '${run.gatewayUrl}/workflows?state=awaitingApproval&idPrefix=triage-${run.runId}&limit=10'   (or state=humanReview)`);
    console.log(`  curl -H "X-Api-Key: $TROUPE_API_KEY" '${run.gatewayUrl}/workflows/<workflowId>'`);
    console.log(`  curl -X POST -H "X-Api-Key: $TROUPE_API_KEY" -H 'content-type: application/json' -d '{"decision":"approved"}' ${run.gatewayUrl}/workflows/<workflowId>/approvals`);
    console.log('  (decision: approved | rejected | edited with "editedText"; or rerun with --approve all)');
  }
}

void main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
