/**
 * `npm run bench`: durable actor steps per second against the raw JetStream floor of the same
 * nats-server, memory per live actor, cold-start rehydration, and where a step spends its time.
 * Prints tables and writes the figures as JSON to bench/results/<timestamp>.json. See bench/README.md.
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect } from 'nats';
import { connectToNats } from '@troupe/bus';
import { DEFAULT_PARTITION_COUNT } from '@troupe/contracts';
import { startNatsServer } from '@troupe/testing';
import { benchWorkflow } from './bench-workflow';
import { measureMemory } from './memory';
import type { MemoryChildResult } from './memory-child';
import { nowMs } from './measure';
import { parseBenchOptions, USAGE, type BenchOptions } from './options';
import { profileTroupeSteps, type ProfileSummary } from './profile';
import { RawJetStream, type RateResult, type RawFloorResults } from './raw-jetstream';
import { runRehydration, type RehydrationResult } from './rehydration';
import { PHASES } from './step-probe';
import { measureStepSizes, type StepSizes } from './step-sizes';
import { formatBytes, formatMs, formatRate, formatRatio, formatUs, renderTable } from './table';
import { benchWorkflowIds, runTroupeSteps, type TroupeStepResult } from './troupe-steps';
import { NO_WHAT_IF, whatIfName, type WhatIf } from './what-if';

/** The target of issue 3: Troupe steps/s ÷ the floor of one step done by hand (d). */
const TARGET_RATIO = 0.5;

/** Everything one run measured, as written to bench/results/<timestamp>.json. */
interface BenchReport {
  startedAt: string;
  durationMs: number;
  options: BenchOptions;
  environment: Record<string, unknown>;
  stepSizes: StepSizes;
  floor: RawFloorResults;
  rounds: { stepFloor: RateResult; troupe: TroupeStepResult; ratio: number; cpuCostRatio: number | null }[];
  ratio: {
    median: number;
    target: number;
    met: boolean;
    troupeStepsPerSec: number;
    stepFloorPerSec: number;
    /** Median of (floor (d) CPU per step ÷ Troupe CPU per step), client + nats-server: steadier on a shared machine. */
    cpuCostRatio: number | null;
  };
  troupeIoFloor: RateResult;
  /** Every what-if run, in run order (rounds × variants). */
  whatIfRuns: TroupeStepResult[];
  /** Per variant, medians over the rounds. */
  whatIfs: WhatIfSummary[];
  rehydration: RehydrationResult;
  memory: MemoryChildResult;
  profile: ProfileSummary | null;
}

/** One what-if variant over its rounds: medians, and the spread of the rate. */
interface WhatIfSummary {
  variant: string;
  runs: number;
  stepsPerSec: number;
  stepsPerSecMin: number;
  stepsPerSecMax: number;
  clientCpuUsPerStep: number;
  serverCpuUsPerStep: number | null;
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
}

/** The what-if variants, each run once per what-if round in this order. */
const WHAT_IFS: WhatIf[] = [
  NO_WHAT_IF,
  { ...NO_WHAT_IF, skipClearWrite: true },
  { ...NO_WHAT_IF, journalParallel: true },
  { ...NO_WHAT_IF, fireAndForgetAck: true },
  { ...NO_WHAT_IF, noAsyncTraces: true },
  { skipClearWrite: true, journalParallel: true, fireAndForgetAck: true, noAsyncTraces: true },
];

function summariseWhatIfs(runs: TroupeStepResult[]): WhatIfSummary[] {
  return WHAT_IFS.map((whatIf) => {
    const mine = runs.filter((run) => run.variant === whatIfName(whatIf));
    const servers = mine.map((run) => run.cpu.serverUsPerOp);
    const latencies = mine.map((run) => run.latency).filter((l) => l !== null);
    return {
      variant: whatIfName(whatIf),
      runs: mine.length,
      stepsPerSec: median(mine.map((run) => run.stepsPerSec)),
      stepsPerSecMin: Math.min(...mine.map((run) => run.stepsPerSec)),
      stepsPerSecMax: Math.max(...mine.map((run) => run.stepsPerSec)),
      clientCpuUsPerStep: median(mine.map((run) => run.cpu.clientUsPerOp)),
      serverCpuUsPerStep: servers.every((us) => us !== null) ? median(servers as number[]) : null,
      latencyP50Ms: latencies.length === 0 ? null : median(latencies.map((l) => l.p50Ms)),
      latencyP99Ms: latencies.length === 0 ? null : median(latencies.map((l) => l.p99Ms)),
    };
  });
}

const benchStartedAt = nowMs();

/** Progress on stderr, with seconds since the start. */
function log(line: string): void {
  process.stderr.write(`  [${((nowMs() - benchStartedAt) / 1_000).toFixed(0).padStart(3)} s] ${line}\n`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** CPU per step (this process + nats-server) of the floor (d) ÷ the same of Troupe; null without /proc. */
function cpuCostRatio(floor: RateResult, troupe: TroupeStepResult): number | null {
  if (floor.cpu === undefined || floor.cpu.serverUsPerOp === null || troupe.cpu.serverUsPerOp === null) return null;
  return (floor.cpu.clientUsPerOp + floor.cpu.serverUsPerOp) / (troupe.cpu.clientUsPerOp + troupe.cpu.serverUsPerOp);
}

function commandOutput(command: string, args: string[]): string | null {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const options = parseBenchOptions(process.argv.slice(2));
  if (options === null) {
    console.log(USAGE);
    return;
  }
  const startedAt = new Date();
  const started = nowMs();
  const environment = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryBytes: os.totalmem(),
    node: process.version,
    natsServer: commandOutput(process.env.NATS_SERVER_BIN ?? 'nats-server', ['--version']),
    platform: `${os.platform()} ${os.release()}`,
    gitHead: commandOutput('git', ['rev-parse', '--short', 'HEAD']),
    gitDirtyFiles: commandOutput('git', ['status', '--porcelain', '--', 'libs', 'apps'])?.split('\n').filter((l) => l !== '').length ?? null,
    loadAverageAtStart: os.loadavg(),
  };
  console.log(
    `Troupe bench (${options.quick ? 'quick' : 'full'}): ${environment.cpus} × ${environment.cpuModel}, node ${environment.node}, ${environment.natsServer ?? 'nats-server ?'}, ` +
      `load average ${environment.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')}`,
  );

  const server = await startNatsServer();
  const serverPid = server.process.pid;
  const nats = await connectToNats({ servers: server.url, name: 'troupe-bench' });
  let report: BenchReport;
  try {
    log(`nats-server ${server.url}, store ${server.storeDir}`);
    const stepSizes = await measureStepSizes(Math.ceil(options.events / options.workflows));
    const raw = await RawJetStream.open(nats, {
      ops: options.rawOps,
      serialOps: options.serialOps,
      inFlight: options.inFlight,
      stepConcurrency: options.concurrency,
      keys: options.workflows,
      sizes: stepSizes,
      serverPid,
    });
    const floor = await raw.floor(log);

    const runStamp = startedAt.toISOString().replace(/\D/g, '').slice(0, 14);
    const rounds: BenchReport['rounds'] = [];
    for (let round = 1; round <= options.rounds; round += 1) {
      log(`round ${round}/${options.rounds}: (d) one step by hand: consume + KV CAS + publish (msgID) + ackAck`);
      const stepFloor = await raw.stepFloor();
      log(`round ${round}/${options.rounds}: Troupe durable steps, ${options.events} events over ${options.workflows} workflows`);
      const troupe = await runTroupeSteps(nats, {
        events: options.events,
        workflows: options.workflows,
        concurrency: options.concurrency,
        latencySamples: round === 1 ? options.latencySamples : 0,
        cacheSize: 10_000,
        runId: `b${runStamp}r${round}`,
        serverPid,
        consumers: options.singleConsumer ? 'single' : 'partitions',
      });
      rounds.push({ stepFloor, troupe, ratio: troupe.stepsPerSec / stepFloor.opsPerSec, cpuCostRatio: cpuCostRatio(stepFloor, troupe) });
    }
    log("(d') Troupe's I/O by hand: CAS, journal, 2 outbox publishes, clearing CAS, ackAck");
    const troupeIoFloor = await raw.troupeIoFloor();

    const whatIfRuns: TroupeStepResult[] = [];
    if (options.whatIfEvents > 0) {
      // connectToNats has no switch for it, and the what-if is about that very setting.
      const natsWithoutTraces = await connect({ servers: server.url, name: 'troupe-bench-no-async-traces', noAsyncTraces: true });
      try {
        for (let round = 1; round <= options.whatIfRounds; round += 1) {
          for (const [i, whatIf] of WHAT_IFS.entries()) {
            log(`what-if round ${round}/${options.whatIfRounds}, ${i + 1}/${WHAT_IFS.length}: ${whatIfName(whatIf)}, ${options.whatIfEvents} events`);
            whatIfRuns.push(
              await runTroupeSteps(whatIf.noAsyncTraces ? natsWithoutTraces : nats, {
                events: options.whatIfEvents,
                workflows: options.workflows,
                concurrency: options.concurrency,
                latencySamples: Math.min(100, options.latencySamples),
                cacheSize: 10_000,
                runId: `b${runStamp}w${round}v${i}`,
                whatIf,
                serverPid,
                consumers: options.singleConsumer ? 'single' : 'partitions',
              }),
            );
          }
        }
      } finally {
        await natsWithoutTraces.close();
      }
    }

    log(`cold-start rehydration of ${options.workflows} workflows`);
    const rehydration = await runRehydration(nats, benchWorkflow, benchWorkflowIds(`b${runStamp}r1`, options.workflows), 64);

    let profile: ProfileSummary | null = null;
    if (options.profile) {
      log('Troupe step run under node --cpu-prof');
      if (options.keepProfile) mkdirSync(options.out, { recursive: true });
      profile = await profileTroupeSteps(
        server.url,
        {
          events: options.events,
          workflows: options.workflows,
          concurrency: options.concurrency,
          latencySamples: 0,
          cacheSize: 10_000,
          runId: `b${runStamp}p`,
          serverPid,
          consumers: options.singleConsumer ? 'single' : 'partitions',
        },
        options.keepProfile ? options.out : undefined,
      );
    }

    log(`memory per live actor (${options.actors} actors, separate node --expose-gc process)`);
    const memory = await measureMemory({
      actors: options.actors,
      actorsNoIdleTtl: Math.min(options.actors, 20_000),
      midRunActors: Math.max(1_000, Math.floor(options.actors / 100)),
      midRunEvents: Math.ceil(options.events / options.workflows) + 1,
      fullWindowActors: options.quick ? 50 : 200,
      cpuSteps: 5_000,
    });

    const ratios = rounds.map((r) => r.ratio);
    const medianRatio = median(ratios);
    report = {
      startedAt: startedAt.toISOString(),
      durationMs: nowMs() - started,
      options,
      environment: { ...environment, loadAverageAtEnd: os.loadavg() },
      stepSizes,
      floor,
      rounds,
      ratio: {
        median: medianRatio,
        target: TARGET_RATIO,
        met: medianRatio >= TARGET_RATIO,
        troupeStepsPerSec: median(rounds.map((r) => r.troupe.stepsPerSec)),
        stepFloorPerSec: median(rounds.map((r) => r.stepFloor.opsPerSec)),
        cpuCostRatio: rounds.every((r) => r.cpuCostRatio !== null) ? median(rounds.map((r) => r.cpuCostRatio as number)) : null,
      },
      troupeIoFloor,
      whatIfRuns,
      whatIfs: whatIfRuns.length === 0 ? [] : summariseWhatIfs(whatIfRuns),
      rehydration,
      memory,
      profile,
    };
  } finally {
    await nats.close();
    await server.stop();
  }

  console.log(`\n${renderReport(report)}\n`);
  mkdirSync(options.out, { recursive: true });
  const file = path.join(options.out, `${report.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`JSON: ${file} (${(report.durationMs / 1_000).toFixed(0)} s)`);
}

function rateRow(name: string, result: RateResult): string[] {
  return [
    name,
    formatRate(result.opsPerSec),
    formatMs(result.latency?.p50Ms),
    formatMs(result.latency?.p99Ms),
    formatUs(result.cpu?.clientUsPerOp),
    formatUs(result.cpu?.serverUsPerOp),
  ];
}

function renderReport(report: BenchReport): string {
  const { options, floor, stepSizes } = report;
  const c = options.concurrency;
  const sections: string[] = [];
  const rateHeader = ['', 'ops/s', 'p50 ms', 'p99 ms', 'client CPU µs/op', 'server CPU µs/op'];

  sections.push(
    renderTable(
      `Raw JetStream floor (same private nats-server, file storage; bodies: event ${stepSizes.eventBytes} B, record ${stepSizes.persistBytes} B, outbox ${stepSizes.outboxBytes.join(' + ')} B)`,
      rateHeader,
      [
        rateRow('(a) publish + ack, 1 in flight', floor.publishSerial),
        rateRow(`(a) publish + ack, ${options.inFlight} in flight`, floor.publishPipelined),
        rateRow(`(b) pull consume + ack(), ${options.inFlight} pulled`, floor.consumeAck),
        rateRow(`(b) pull consume + ackAck(), ${options.inFlight} in flight`, floor.consumeAckAck),
        rateRow(`(c) KV compare-and-set ${stepSizes.persistBytes} B, 1 in flight`, floor.kvCasSerial),
        rateRow(`(c) KV compare-and-set ${stepSizes.persistBytes} B, ${options.inFlight} in flight`, floor.kvCasPipelined),
        ...report.rounds.map((r, i) => rateRow(`(d) step by hand: consume + CAS + publish(msgID) + ackAck, ${c} in flight [round ${i + 1}]`, r.stepFloor)),
        rateRow(`(d') Troupe's I/O by hand: CAS + journal + 2 publishes + clearing CAS + ackAck, ${c} in flight`, report.troupeIoFloor),
      ],
    ),
  );

  const first = report.rounds[0].troupe;
  sections.push(
    renderTable(
      `Troupe durable steps (ActorRuntime + KvSnapshotStore + StreamJournal + publishEnvelope, fed by JetStreamServer from ${options.singleConsumer ? 'the single orchestrator consumer' : `${DEFAULT_PARTITION_COUNT} partition consumers`}; ${options.events} events over ${options.workflows} workflows)`,
      rateHeader,
      [
        [`start steps (KV create): first ack → ack ${formatBytes(options.workflows)}`, formatRate(first.startStepsPerSec), '-', '-', '-', '-'],
        ...report.rounds.map((r, i) => [
          `steps, ${c} in flight, warm cache: the last ${formatBytes(options.events)} acks [round ${i + 1}]`,
          formatRate(r.troupe.stepsPerSec),
          '-',
          '-',
          formatUs(r.troupe.cpu.clientUsPerOp),
          formatUs(r.troupe.cpu.serverUsPerOp),
        ]),
        ...(first.latency === null
          ? []
          : [[`single event, 1 in flight: publish → ack confirmed (${first.latency.samples} samples)`, '-', formatMs(first.latency.p50Ms), formatMs(first.latency.p99Ms), '-', '-']]),
      ],
    ),
  );

  const { ratio } = report;
  sections.push(
    [
      `Ratio Troupe ÷ floor (d): ${formatRatio(ratio.median)} (median of ${report.rounds.length}: ${report.rounds.map((r) => formatRatio(r.ratio)).join(', ')}); ` +
        `target ≥ ${ratio.target}: ${ratio.met ? 'MET' : 'NOT MET'}`,
      `Ratio Troupe ÷ Troupe's I/O by hand (d'): ${formatRatio(ratio.troupeStepsPerSec / report.troupeIoFloor.opsPerSec)}   ` +
        `(d') ÷ (d): ${formatRatio(report.troupeIoFloor.opsPerSec / ratio.stepFloorPerSec)}`,
      ...(ratio.cpuCostRatio === null
        ? []
        : [`CPU-cost ratio, CPU per step (bench process + nats-server) of (d) ÷ of Troupe: ${formatRatio(ratio.cpuCostRatio)} (steadier than the rate ratio when other processes share the cores)`]),
    ].join('\n'),
  );

  const phaseRows = PHASES.map((phase) => [
    phase,
    formatMs(first.phasesSerial?.meanMs[phase]),
    first.phasesSerial === null ? '-' : `${Math.round((100 * first.phasesSerial.meanMs[phase]) / first.phasesSerial.stepMeanMs)}%`,
    formatMs(first.phasesLoaded.meanMs[phase]),
    `${Math.round((100 * first.phasesLoaded.meanMs[phase]) / first.phasesLoaded.stepMeanMs)}%`,
  ]);
  phaseRows.push(['step (handler entry → ack confirmed)', formatMs(first.phasesSerial?.stepMeanMs), '100%', formatMs(first.phasesLoaded.stepMeanMs), '100%']);
  sections.push(renderTable('Where a durable step spends its time (mean ms per phase; under load the phases include queueing)', ['phase', '1 in flight', 'share', `${c} in flight`, 'share'], phaseRows));

  if (report.whatIfs.length > 0) {
    const base = report.whatIfs[0];
    sections.push(
      renderTable(
        `What-ifs: dependencies, ack or connection wrapped; libs unchanged (${options.whatIfEvents} events per run, medians of ${options.whatIfRounds} round(s))`,
        ['variant', 'steps/s', 'min-max', 'vs as is', 'client CPU µs/step', 'server CPU µs/step', 'p50 ms 1 in flight', 'p99 ms'],
        report.whatIfs.map((w) => [
          w.variant,
          formatRate(w.stepsPerSec),
          `${formatRate(w.stepsPerSecMin)}-${formatRate(w.stepsPerSecMax)}`,
          `${formatRatio(w.stepsPerSec / base.stepsPerSec)}x`,
          formatUs(w.clientCpuUsPerStep),
          formatUs(w.serverCpuUsPerStep),
          formatMs(w.latencyP50Ms),
          formatMs(w.latencyP99Ms),
        ]),
      ),
    );
  }

  const { memory } = report;
  const memoryRow = (name: string, point: MemoryChildResult['started']): string[] => [
    name,
    formatBytes(point.actors),
    String(point.appliedIdsPerActor),
    formatBytes(point.bytesPerActor),
    formatBytes((point.heapUsedAfterBytes - point.heapUsedBeforeBytes) / 1_048_576),
  ];
  sections.push(
    renderTable(
      `Memory per live actor (ActorRuntime cache, test-double stores, heap used after global.gc: ${memory.gcExposed ? 'exposed' : 'NOT exposed, approximate'})`,
      ['point', 'actors', 'applied ids', 'bytes/actor', 'heap MiB'],
      [
        memoryRow('after the start event (idle TTL on, orchestrator default)', memory.started),
        memoryRow('after the start event, idleMs 0 (no TTL timer per actor)', memory.startedNoIdleTtl),
        memoryRow(`after ${memory.midRun.eventsPerActor} events (as in the step bench)`, memory.midRun),
        memoryRow(`after ${memory.fullWindow.eventsPerActor} events (dedupe window full)`, memory.fullWindow),
      ],
    ),
  );

  const { rehydration } = report;
  sections.push(
    renderTable(
      `Cold start: KvSnapshotStore.load + machine.resolveState, empty caches (${rehydration.workflows} workflows, records of ${formatBytes(rehydration.meanRecordBytes)} B)`,
      ['', 'per s', 'p50 ms', 'p99 ms'],
      [
        ['1 at a time', formatRate(rehydration.serial.perSec), formatMs(rehydration.serial.latency.p50Ms), formatMs(rehydration.serial.latency.p99Ms)],
        [`${rehydration.pipelined.inFlight} in flight`, formatRate(rehydration.pipelined.perSec), '-', '-'],
      ],
    ),
  );

  sections.push(
    renderTable('The runtime alone (ActorRuntime.handle, test-double stores, 1 event at a time)', ['machine', 'steps/s', 'CPU µs/step'], [
      ['bench counter (context factory reads input, like email-triage)', formatRate(memory.cpu.stepsPerSec), formatUs(memory.cpu.cpuUsPerStep)],
      ['the same, context factory copes with missing input', formatRate(memory.cpuToleratingMissingInput.stepsPerSec), formatUs(memory.cpuToleratingMissingInput.cpuUsPerStep)],
    ]),
  );

  if (report.profile !== null) {
    const { profile } = report;
    sections.push(
      renderTable(
        `CPU profile of one Troupe step run (node --cpu-prof, ${formatRate(profile.run.stepsPerSec)} steps/s while profiled; self time, ${formatRate(profile.totalMs)} ms total)`,
        ['group', 'self ms', 'share'],
        profile.byGroup.map((g) => [g.name, formatRate(g.selfMs), `${(100 * g.share).toFixed(1)}%`]),
      ),
    );
    sections.push(
      renderTable('Top functions by self time', ['function', 'self ms', 'share'], profile.byFunction.slice(0, 12).map((f) => [f.name, formatRate(f.selfMs), `${(100 * f.share).toFixed(1)}%`])),
    );
    if (profile.file !== null) sections.push(`Profile kept: ${profile.file}`);
  }
  return sections.join('\n\n');
}

void main().then(
  // lru-cache's TTL timers (runtime passivation) would keep the process alive for idleMs.
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
