import { randomBytes } from 'node:crypto';
import { publishEnvelope } from '@troupe/bus';
import { incidentAlertEnvelope, workflowEventTypeSubject, type SensorAlert } from '@troupe/contracts';
import { DEFAULT_ROBUST_Z_OPTIONS, detectAlerts, detectorName, evaluateDetection, loadSuthaharanReadings } from '@troupe/sensor-data';
import { parseModelPrices } from '@troupe/telemetry';
import { startDemoMesh } from '../demo-mesh';
import { NO_APPROVALS, approveEveryPendingGate } from '../auto-approver';
import { RunTracker } from '../tracker';
import { printIncidentReport, type IncidentRun } from './incident-report';

/** What `npm run demo -- --workflow incidents` was asked to do. */
export interface IncidentDemoOptions {
  natsUrl: string;
  natsUser?: string;
  natsPassword?: string;
  streamReplicas?: number;
  httpPort: number;
  approve: 'all' | 'none';
  timeoutSeconds: number;
  externalApps: boolean;
  keepRunning: boolean;
  /** With external apps: an API key (approver) of the running gateway. */
  apiKey?: string;
  /** The detector's |z| threshold (default {@link DEFAULT_ROBUST_Z_OPTIONS}). */
  threshold?: number;
}


interface WorkflowDetailView {
  stateValue: unknown;
  status: string;
  tags: Record<string, string>;
  context: { diagnosis?: { diagnoser: string; inputTokens: number | null; outputTokens: number | null } | null } | null;
}

/**
 * The incident-response main job: reads the Suthaharan sensor readings, turns them into alerts with the
 * robust z-score detector, scores the detection against the labels (which never reach a workflow),
 * starts one incident-response workflow per alert on the mesh and, with `approve: 'all'`, approves every
 * proposed fix over HTTP; then prints detection precision and recall and every workflow's final state,
 * latency and cost. Returns the process exit code (0 when every workflow finished as asked).
 */
export async function runIncidentDemo(options: IncidentDemoOptions): Promise<number> {
  const runId = `${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '')}${randomBytes(2).toString('hex')}`;
  const gatewayUrl = `http://127.0.0.1:${options.httpPort}`;
  const apiKey = options.externalApps ? options.apiKey : randomBytes(24).toString('base64url');
  if (apiKey === undefined && options.approve === 'all') throw new Error('--external-apps with --approve all needs TROUPE_API_KEY (an API key with role approver)');

  console.log(`Troupe incident-response demo, run ${runId}`);
  const detectorOptions = { ...DEFAULT_ROBUST_Z_OPTIONS, ...(options.threshold === undefined ? {} : { threshold: options.threshold }) };
  const readings = loadSuthaharanReadings();
  const detection = detectAlerts(readings, detectorOptions);
  const evaluation = evaluateDetection(detection.scored, detection.alerts, readings);
  console.log(`Detector ${detectorName(detectorOptions)}: ${detection.alerts.length} alerts from ${readings.length} readings of ${new Set(readings.map((r) => r.moteId)).size} motes`);

  const { nats, stop: stopAll } = await startDemoMesh({
    runId,
    nats: { servers: options.natsUrl, name: 'troupe-demo-incidents', user: options.natsUser, pass: options.natsPassword },
    streamReplicas: options.streamReplicas,
    httpPort: options.httpPort,
    externalApps: options.externalApps,
    apiKey,
  });

  const byWorkflow = new Map<string, SensorAlert>();
  const workflowIds = detection.alerts.map((alert) => {
    const workflowId = `incident-${runId}-${alert.alertId}`;
    byWorkflow.set(workflowId, alert);
    return workflowId;
  });
  const tracker = new RunTracker(nats);
  tracker.track(workflowIds);
  const approvals = options.approve === 'all' ? approveEveryPendingGate(tracker, { gatewayUrl, apiKey: apiKey!, comment: 'approved by npm run demo -- --workflow incidents --approve all' }) : NO_APPROVALS;
  const startedAt = Date.now();
  await tracker.start(new Date(startedAt - 1_000));
  const js = nats.jetstream();
  for (const workflowId of workflowIds) {
    const envelope = incidentAlertEnvelope(workflowId, byWorkflow.get(workflowId)!, { source: 'demo', occurredAt: new Date().toISOString() });
    tracker.workflows.get(workflowId)!.publishedAtMs = Date.now();
    await publishEnvelope(js, workflowEventTypeSubject(workflowId, envelope.type), envelope, { msgId: envelope.id });
  }
  console.log(`Published ${workflowIds.length} alerts; waiting for ${options.approve === 'all' ? 'every workflow to finish' : 'every workflow to finish or wait for a human'} …`);
  const finished = await tracker.waitFor(() => {
    const { total, settled, done } = tracker.progress();
    return options.approve === 'all' ? done === total : settled === total;
  }, options.timeoutSeconds * 1_000);
  const finishedAt = Date.now();
  await tracker.stop();

  const runs: IncidentRun[] = [];
  for (const workflowId of workflowIds) {
    const tracked = tracker.workflows.get(workflowId)!;
    const alert = byWorkflow.get(workflowId)!;
    let detail: WorkflowDetailView | null = null;
    if (apiKey !== undefined) {
      const response = await fetch(`${gatewayUrl}/workflows/${workflowId}`, { headers: { 'x-api-key': apiKey } });
      if (response.ok) detail = (await response.json()) as WorkflowDetailView;
    }
    const last = tracked.last;
    const diagnosis = detail?.context?.diagnosis ?? null;
    runs.push({
      workflowId,
      alertId: alert.alertId,
      severity: alert.severity,
      state: last === null ? 'not started' : JSON.stringify(last.stateValue).replace(/"/g, ''),
      status: last?.status ?? 'active',
      outcome: last?.tags.outcome ?? null,
      decision: last?.tags.fixDecision ?? null,
      diagnoser: diagnosis?.diagnoser ?? null,
      inputTokens: diagnosis?.inputTokens ?? null,
      outputTokens: diagnosis?.outputTokens ?? null,
      latencyMs: tracked.doneAtMs === null || tracked.publishedAtMs === null ? null : tracked.doneAtMs - tracked.publishedAtMs,
    });
  }
  printIncidentReport({ evaluation, readings: readings.length, detector: detectorName(detectorOptions) }, runs, {
    finished,
    approve: options.approve,
    approvalsSent: approvals.sent(),
    approvalFailures: approvals.failures(),
    elapsedMs: finishedAt - startedAt,
    prices: parseModelPrices(process.env.TROUPE_MODEL_PRICES),
    gatewayUrl,
    runId,
  });

  await nats.drain();
  if (options.keepRunning) {
    console.log(`\nThe apps keep running (gateway ${gatewayUrl}); stop them with Ctrl-C.`);
    if (apiKey !== undefined && !options.externalApps) console.log(`  export TROUPE_API_KEY='${apiKey}'`);
    await new Promise(() => undefined);
  }
  await stopAll();
  return finished ? 0 : 1;
}
