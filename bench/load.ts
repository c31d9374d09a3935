/**
 * `npm run load`: a steady-rate load test against the real apps. Starts a private nats-server (free
 * port, temp store) and the four apps as processes, publishes triage workflows (held-out SpamAssassin
 * emails, cycled) at a fixed rate for a fixed time, and reports the sustained rate, the latency from
 * publish to settled (final state, or waiting for a human) as p50/p95/p99, the peak resident memory of
 * each app, the largest consumer lag seen, and how many workflows were lost (published but never
 * settled). With `--burst N` it then publishes N events at once (decisions by a viewer on the settled
 * workflows: each is a durable step the runtime journals as a rejection) and reports how long the apps
 * took to absorb them and their peak memory meanwhile: consumers pull at most `max_ack_pending`
 * (libs/contracts/src/topology.ts) ahead, so memory stays flat while the stream holds the backlog.
 *
 * Options: `--duration-s S` (default 180), `--rate R` workflows/s (default 20), `--burst N` (default 0),
 * `--settle-timeout-s S` (default 120). Writes JSON to bench/results/load-<timestamp>.json.
 */
import 'reflect-metadata';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { provisionStreams, publishEnvelope } from '@troupe/bus';
import {
  APPROVAL_DECIDED,
  DEFAULT_PARTITION_COUNT,
  EMAIL_RECEIVED,
  ORCHESTRATOR_CONSUMER,
  STREAMS,
  emailReceivedEnvelope,
  orchestratorPartitionConsumer,
  workflowEventTypeSubject,
  type Email,
} from '@troupe/contracts';
import { corpusSplit, loadSpamAssassinCorpus, parseCorpusEmail } from '@troupe/email-corpus';
import { freePort, startNatsServer } from '@troupe/testing';
import { TROUPE_APPS, startApp, type AppProcess, type TroupeApp } from '../apps/demo/src/stack';
import { RunTracker } from '../apps/demo/src/tracker';

interface LoadOptions {
  durationS: number;
  rate: number;
  burst: number;
  settleTimeoutS: number;
}

function parseOptions(argv: string[]): LoadOptions {
  const options: LoadOptions = { durationS: 180, rate: 20, burst: 0, settleTimeoutS: 120 };
  const names: Record<string, keyof LoadOptions> = { '--duration-s': 'durationS', '--rate': 'rate', '--burst': 'burst', '--settle-timeout-s': 'settleTimeoutS' };
  for (let i = 0; i < argv.length; i += 1) {
    const key = names[argv[i]];
    const value = Number(argv[i + 1]);
    if (key === undefined || !Number.isFinite(value) || value < 0) throw new Error(`usage: npm run load -- [--duration-s S] [--rate R] [--burst N] [--settle-timeout-s S] (bad: ${argv[i]} ${argv[i + 1] ?? ''})`);
    options[key] = value;
    i += 1;
  }
  return options;
}

/** Resident set size of a process, bytes (Linux /proc; 0 elsewhere). */
function rssOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? 0 : Number(match[1]) * 1_024;
  } catch {
    return 0;
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const mib = (bytes: number): string => `${(bytes / 1_048_576).toFixed(0)} MiB`;

/** Samples every app's RSS and the orchestrator's consumer lag once a second; keeps the peaks. */
class Sampler {
  readonly peakRss = new Map<TroupeApp, number>();
  peakLag = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly apps: Map<TroupeApp, AppProcess>, private readonly nats: NatsConnection) {}

  start(): void {
    this.timer = setInterval(() => void this.sample(), 1_000);
  }

  resetPeaks(): void {
    this.peakRss.clear();
    this.peakLag = 0;
  }

  async sample(): Promise<void> {
    for (const [app, handle] of this.apps) this.peakRss.set(app, Math.max(this.peakRss.get(app) ?? 0, rssOf(handle.process.pid)));
    const jsm = await this.nats.jetstreamManager();
    let lag = 0;
    for (let partition = 0; partition < DEFAULT_PARTITION_COUNT; partition += 1) {
      lag += await jsm.consumers.info(STREAMS.workflowEvents.name, orchestratorPartitionConsumer(partition).durable).then((info) => info.num_pending + info.num_ack_pending, () => 0);
    }
    this.peakLag = Math.max(this.peakLag, lag);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const nats = await startNatsServer();
  const connection = await connect({ servers: nats.url });
  await provisionStreams(await connection.jetstreamManager());
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'troupe-load-'));
  const httpPort = await freePort();
  const env = { NATS_URL: nats.url, TROUPE_HTTP_PORT: String(httpPort) };
  const apps = new Map<TroupeApp, AppProcess>();
  for (const app of TROUPE_APPS) apps.set(app, startApp(app, { env, logFile: path.join(logDir, `${app}.log`) }));
  await Promise.all([...apps.values()].map((app) => app.ready));
  const tracker = new RunTracker(connection);
  await tracker.start(new Date(Date.now() - 1_000));
  const sampler = new Sampler(apps, connection);
  sampler.start();
  const emails: Email[] = [];
  // 400 held-out emails spread over the whole split (it is ordered by group), so ham (list mail,
  // personal mail) and spam come in the corpus's proportions.
  const heldOut = corpusSplit(loadSpamAssassinCorpus(), 'test');
  const stride = Math.max(1, Math.floor(heldOut.length / 400));
  for (let i = 0; i < heldOut.length && emails.length < 400; i += stride) emails.push(await parseCorpusEmail(heldOut[i]));
  const js = connection.jetstream();
  const run = Date.now().toString(36);
  console.log(`load: ${options.rate} workflows/s for ${options.durationS} s against the four apps (logs in ${logDir})`);

  // Open loop: publish what is due every 20 ms, whatever the apps' pace.
  const startedAt = Date.now();
  const endAt = startedAt + options.durationS * 1_000;
  let published = 0;
  const publishing = new Set<Promise<unknown>>();
  let lastReport = startedAt;
  while (Date.now() < endAt) {
    const due = Math.floor(((Date.now() - startedAt) / 1_000) * options.rate);
    while (published < due) {
      const workflowId = `load-${run}-${published}`;
      const envelope = emailReceivedEnvelope(workflowId, emails[published % emails.length], { source: 'load', occurredAt: new Date().toISOString() });
      tracker.track([workflowId]);
      tracker.workflows.get(workflowId)!.publishedAtMs = Date.now();
      const publish = publishEnvelope(js, workflowEventTypeSubject(workflowId, EMAIL_RECEIVED), envelope, { msgId: envelope.id }).finally(() => publishing.delete(publish));
      publishing.add(publish);
      published += 1;
    }
    if (Date.now() - lastReport >= 10_000) {
      lastReport = Date.now();
      const { settled } = tracker.progress();
      console.log(`  ${Math.round((Date.now() - startedAt) / 1_000)} s: ${published} published, ${settled} settled, lag ${sampler.peakLag}, RSS ${[...sampler.peakRss].map(([a, r]) => `${a} ${mib(r)}`).join(', ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await Promise.all(publishing);
  const publishEndedAt = Date.now();
  const allSettled = await tracker.waitFor(() => tracker.progress().settled === published, options.settleTimeoutS * 1_000);
  const workflows = [...tracker.workflows.values()];
  const latencies = workflows.filter((w) => w.settledAtMs !== null && w.publishedAtMs !== null).map((w) => w.settledAtMs! - w.publishedAtMs!).sort((a, b) => a - b);
  const settledInWindow = workflows.filter((w) => w.settledAtMs !== null && w.settledAtMs <= publishEndedAt).length;
  const finalStates: Record<string, number> = {};
  for (const workflow of workflows) {
    const state = workflow.last === null ? 'never seen' : String(workflow.last.stateValue);
    finalStates[state] = (finalStates[state] ?? 0) + 1;
  }
  await sampler.sample();
  const steady = {
    published,
    settled: latencies.length,
    lost: published - latencies.length,
    allSettled,
    durationS: options.durationS,
    offeredRatePerS: options.rate,
    sustainedRatePerS: settledInWindow / ((publishEndedAt - startedAt) / 1_000),
    latencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99), max: latencies.at(-1) ?? Number.NaN },
    peakRssBytes: Object.fromEntries(sampler.peakRss),
    peakConsumerLag: sampler.peakLag,
    finalStates,
  };
  console.log('\nsteady load');
  console.log(`  published ${published} at ${options.rate}/s for ${options.durationS} s; settled ${steady.settled}; lost ${steady.lost}`);
  console.log(`  sustained ${steady.sustainedRatePerS.toFixed(1)} workflows/s settled during the window`);
  console.log(`  publish → settled p50 ${steady.latencyMs.p50} ms, p95 ${steady.latencyMs.p95} ms, p99 ${steady.latencyMs.p99} ms, max ${steady.latencyMs.max} ms`);
  console.log(`  peak RSS ${[...sampler.peakRss].map(([a, r]) => `${a} ${mib(r)}`).join(', ')}; peak orchestrator lag ${sampler.peakLag} events`);
  console.log(`  states ${JSON.stringify(finalStates)}`);

  let burst: Record<string, unknown> | null = null;
  if (options.burst > 0) {
    const targets = workflows.filter((w) => w.last !== null).map((w) => w.workflowId);
    sampler.resetPeaks();
    const before = await (await connection.jetstreamManager()).streams.info(STREAMS.workflowEvents.name);
    const burstStartedAt = Date.now();
    const inFlight = new Set<Promise<unknown>>();
    for (let i = 0; i < options.burst; i += 1) {
      const workflowId = targets[i % targets.length];
      const id = `burst-${run}-${i}`;
      const publish = publishEnvelope(js, workflowEventTypeSubject(workflowId, APPROVAL_DECIDED), {
        id,
        type: APPROVAL_DECIDED,
        workflowId,
        correlationId: workflowId,
        causationId: null,
        occurredAt: new Date().toISOString(),
        source: 'load/burst',
        payload: { gateId: 'reply-approval', decision: 'approved', approver: { id: 'load-viewer', roles: ['viewer'] }, comment: null, editedText: null },
      }, { msgId: id }).finally(() => inFlight.delete(publish));
      inFlight.add(publish);
      if (inFlight.size >= 1_000) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    const publishedInMs = Date.now() - burstStartedAt;
    // Absorbed: every partition consumer has nothing pending or unacknowledged.
    let drained = false;
    const drainDeadline = Date.now() + Math.max(600_000, options.burst * 20);
    while (!drained && Date.now() < drainDeadline) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await sampler.sample();
      const jsm = await connection.jetstreamManager();
      let pending = 0;
      for (let partition = 0; partition < DEFAULT_PARTITION_COUNT; partition += 1) {
        const info = await jsm.consumers.info(STREAMS.workflowEvents.name, orchestratorPartitionConsumer(partition).durable);
        pending += info.num_pending + info.num_ack_pending;
      }
      drained = pending === 0;
    }
    const after = await (await connection.jetstreamManager()).streams.info(STREAMS.workflowEvents.name);
    burst = {
      events: options.burst,
      storedInStream: after.state.messages - before.state.messages,
      publishedInMs,
      absorbedInMs: Date.now() - burstStartedAt,
      drained,
      peakRssBytes: Object.fromEntries(sampler.peakRss),
      peakConsumerLag: sampler.peakLag,
      maxAckPendingPerPartition: ORCHESTRATOR_CONSUMER.maxAckPending,
    };
    console.log(`\nburst of ${options.burst} events: published in ${publishedInMs} ms, absorbed in ${burst.absorbedInMs as number} ms (drained: ${drained}); peak lag ${sampler.peakLag}; peak RSS ${[...sampler.peakRss].map(([a, r]) => `${a} ${mib(r)}`).join(', ')}`);
  }
  sampler.stop();
  const exited = [...apps].filter(([, handle]) => handle.process.exitCode !== null || handle.process.signalCode !== null).map(([app]) => app);
  if (exited.length > 0) console.log(`apps that exited during the run: ${exited.join(', ')}`);
  const resultsDir = path.join(__dirname, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `load-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), host: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadAverage: os.loadavg() }, options, steady, burst, exited }, null, 2)}\n`);
  console.log(`\nwrote ${file}`);
  await tracker.stop();
  await Promise.all([...apps.values()].map((app) => app.stop('SIGTERM')));
  await connection.drain();
  await nats.stop();
  if (steady.lost > 0 || exited.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
