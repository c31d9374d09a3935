/**
 * `npm run bench`: Troupe side by side with the limit (raw JetStream on the same nats-server) and the
 * best-known peer (LangGraph.js, with MemorySaver and with its PostgreSQL checkpointer), in one run on
 * one machine: durable steps/s, latency, an approval's latency, passivation, the scaling curves over
 * concurrent workflows and orchestrator replicas, memory per live actor, cold start, the ratios and
 * which targets they met. Prints tables and writes every figure as JSON to bench/results/<timestamp>.json.
 * See bench/README.md.
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectToNats } from '@troupe/bus';
import { DEFAULT_PARTITION_COUNT } from '@troupe/contracts';
import { startNatsServer } from '@troupe/testing';
import { runApprovalLatency, type ApprovalLatencyResult } from './approval';
import { benchWorkflow } from './bench-workflow';
import { ensurePeerDependencies, isSkipped, runLangGraph, type LangGraphRunOptions, type SkippedRun } from './langgraph-peer';
import { measureMemory, runTypeScriptChild } from './memory';
import type { MemoryChildResult, MemoryPoint } from './memory-child';
import { nowMs } from './measure';
import { parseBenchOptions, USAGE, type BenchOptions } from './options';
import { profileTroupeSteps, type ProfileSummary } from './profile';
import { RawJetStream, type RateResult, type RawFloorResults } from './raw-jetstream';
import { nodeStepsPerWorkflow } from './react-workload';
import { runReplicaPoint, type ReplicaPoint } from './replicas';
import { runRehydration, type RehydrationResult } from './rehydration';
import { PHASES } from './step-probe';
import { measureStepSizes, type StepSizes } from './step-sizes';
import { formatBytes, formatMs, formatRate, formatRatio, formatUs, renderTable } from './table';
import { runTroupeReact, type ReactRunResult } from './troupe-react';
import { benchWorkflowIds, runTroupeSteps, type TroupeStepOptions, type TroupeStepResult } from './troupe-steps';
import { WHAT_IFS, type WhatIf } from './what-if';

const GIB = 1_073_741_824;

/** One target of issue 9, and whether this run met it (null: not measured in this run). */
interface TargetCheck {
  name: string;
  target: string;
  value: string;
  met: boolean | null;
}

/** Everything one run measured, as written to bench/results/<timestamp>.json. */
interface BenchReport {
  startedAt: string;
  durationMs: number;
  options: BenchOptions;
  environment: Record<string, unknown>;
  stepSizes: StepSizes;
  floor: RawFloorResults;
  /** Back-to-back rounds: floor (d) with `ack()`, floor (d) with `ackAck()`, Troupe. */
  rounds: { floorAck: RateResult; floorAckAck: RateResult; troupe: TroupeStepResult }[];
  troupeIoFloor: RateResult;
  approval: ApprovalLatencyResult;
  passivation: TroupeStepResult;
  scaling: { workflows: number; run: TroupeStepResult }[];
  react: { troupe: ReactRunResult; langGraph: (ReactRunResult | SkippedRun)[] };
  replicas: ReplicaPoint[];
  rehydration: RehydrationResult;
  memory: MemoryChildResult;
  profile: ProfileSummary | null;
  /** What-if runs (profile findings patched in a child process), in run order. */
  whatIfRuns: { variant: WhatIf; run: TroupeStepResult }[];
  ratios: {
    /** Troupe steps/s ÷ floor (d) with `ack()` (both fire-and-forget acks): the ratio of the target. */
    troupeToFloor: number;
    /** Troupe steps/s ÷ floor (d) with `ackAck()`. */
    troupeToFloorAckAck: number;
    /** CPU per step of floor (d) with `ack()` ÷ CPU per step of Troupe (bench process + nats-server). */
    cpuCostToFloor: number | null;
    /** Troupe ReAct node steps/s ÷ LangGraph.js PostgresSaver (its default durability, async). */
    troupeToLangGraphPostgres: number | null;
    /** The same against PostgresSaver with durability sync (a checkpoint before the next node, as Troupe persists before it publishes). */
    troupeToLangGraphPostgresSync: number | null;
    troupeToLangGraphMemory: number | null;
  };
  targets: TargetCheck[];
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

function commandOutput(command: string, args: string[]): string | null {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** Bump events of the scaling point with `workflows` workflows: enough for a second or more of steps. */
function scaleEvents(workflows: number, quick: boolean): number {
  if (workflows === 1) return quick ? 300 : 1_000;
  return quick ? Math.min(3_000, Math.max(1_000, workflows * 2)) : Math.min(12_000, Math.max(4_000, workflows * 4));
}

async function main(): Promise<void> {
  const options = parseBenchOptions(process.argv.slice(2));
  if (options === null) {
    console.log(USAGE);
    return;
  }
  if (!options.skipPeer) ensurePeerDependencies(log);
  const startedAt = new Date();
  const started = nowMs();
  const environment = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryBytes: os.totalmem(),
    node: process.version,
    natsServer: commandOutput(process.env.NATS_SERVER_BIN ?? 'nats-server', ['--version']),
    postgres: commandOutput('psql', ['--version']),
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
  const runStamp = startedAt.toISOString().replace(/\D/g, '').slice(0, 14);
  const consumers = options.singleConsumer ? ('single' as const) : ('partitions' as const);
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

    // The floor's few lines are compiled within its first operations; Troupe's hot path (runtime,
    // transport, stores, XState, zod) takes a few thousand steps to be optimised. A warm-up run first,
    // so round 1 measures the steady state too (as the what-ifs and the profile already did).
    log(`warm-up: Troupe durable steps, ${Math.min(options.events, 2_000)} events (not measured)`);
    await runTroupeSteps(nats, {
      events: Math.min(options.events, 2_000),
      workflows: options.workflows,
      concurrency: options.concurrency,
      latencySamples: 0,
      cacheSize: 10_000,
      runId: `b${runStamp}warm`,
      serverPid,
      consumers,
    });

    const rounds: BenchReport['rounds'] = [];
    for (let round = 1; round <= options.rounds; round += 1) {
      log(`round ${round}/${options.rounds}: (d) one step by hand, ack() then ackAck()`);
      const floorAck = await raw.stepFloor('ack');
      const floorAckAck = await raw.stepFloor('ackAck');
      log(`round ${round}/${options.rounds}: Troupe durable steps, ${options.events} events over ${options.workflows} workflows`);
      const troupe = await runTroupeSteps(nats, {
        events: options.events,
        workflows: options.workflows,
        concurrency: options.concurrency,
        latencySamples: round === 1 ? options.latencySamples : 0,
        cacheSize: 10_000,
        runId: `b${runStamp}r${round}`,
        serverPid,
        consumers,
      });
      rounds.push({ floorAck, floorAckAck, troupe });
    }
    log("(d') Troupe's I/O by hand: CAS, then journal + 2 outbox publishes in parallel, ack()");
    const troupeIoFloor = await raw.troupeIoFloor();

    log(`approval latency, ${options.approvalSamples} decisions one at a time`);
    const approval = await runApprovalLatency(nats, { samples: options.approvalSamples, runId: `b${runStamp}a` });

    log(`passivation: ${options.passivationWorkflows} workflows through an actor cache of ${options.passivationCache}`);
    const passivation = await runTroupeSteps(nats, {
      events: options.passivationEvents,
      workflows: options.passivationWorkflows,
      concurrency: options.concurrency,
      latencySamples: 0,
      cacheSize: options.passivationCache,
      runId: `b${runStamp}pv`,
      serverPid,
      consumers,
    });

    const scaling: BenchReport['scaling'] = [];
    for (const workflows of options.scaleWorkflows) {
      const events = scaleEvents(workflows, options.quick);
      log(`scaling: ${workflows} concurrent workflow(s), ${events} events`);
      scaling.push({
        workflows,
        run: await runTroupeSteps(nats, {
          events,
          workflows,
          concurrency: options.concurrency,
          latencySamples: 0,
          cacheSize: Math.max(10_000, workflows + 1),
          runId: `b${runStamp}s${workflows}`,
          serverPid,
          consumers,
        }),
      });
    }

    log(`ReAct workload on Troupe: ${options.reactWorkflows} workflows × ${nodeStepsPerWorkflow(options.toolRounds)} node steps`);
    const reactTroupe = await runTroupeReact(nats, {
      workflows: options.reactWorkflows,
      toolRounds: options.toolRounds,
      concurrency: options.concurrency,
      runId: `b${runStamp}react`,
      serverPid,
    });
    const langGraph: (ReactRunResult | SkippedRun)[] = [];
    if (!options.skipPeer) {
      const variants: Pick<LangGraphRunOptions, 'checkpointer' | 'durability'>[] = [
        { checkpointer: 'memory', durability: 'async' },
        { checkpointer: 'postgres', durability: 'async' },
        { checkpointer: 'postgres', durability: 'sync' },
      ];
      for (const [i, variant] of variants.entries()) {
        log(`ReAct workload on LangGraph.js: ${variant.checkpointer}, durability ${variant.durability}`);
        langGraph.push(
          await runLangGraph({
            ...variant,
            workflows: options.reactWorkflows,
            toolRounds: options.toolRounds,
            concurrency: options.concurrency,
            postgresUrl: options.postgresUrl,
            poolSize: options.poolSize,
            runId: `b${runStamp}lg${i}`,
          }),
        );
      }
    }

    const replicas: ReplicaPoint[] = [];
    for (const count of options.replicas) {
      log(`replicas: ${count} orchestrator process(es), ${options.workflows} workflows + ${options.replicaEvents} bumps`);
      replicas.push(
        await runReplicaPoint(nats, server.url, {
          replicas: count,
          workflows: options.workflows,
          events: options.replicaEvents,
          concurrency: options.concurrency,
          runId: `b${runStamp}x${count}`,
          serverPid,
        }),
      );
    }

    log(`cold-start rehydration of ${options.workflows} workflows`);
    const rehydration = await runRehydration(nats, benchWorkflow, benchWorkflowIds(`b${runStamp}r1`, options.workflows), 64);

    let profile: ProfileSummary | null = null;
    if (options.profile) {
      log('Troupe step run under the V8 CPU profiler (after a warm-up run)');
      if (options.keepProfile) mkdirSync(options.out, { recursive: true });
      profile = await profileTroupeSteps(
        server.url,
        { events: options.events, workflows: options.workflows, concurrency: options.concurrency, latencySamples: 0, cacheSize: 10_000, runId: `b${runStamp}p`, serverPid, consumers },
        options.keepProfile ? options.out : undefined,
      );
    }

    const whatIfRuns: BenchReport['whatIfRuns'] = [];
    for (let round = 1; options.whatIfEvents > 0 && round <= options.whatIfRounds; round += 1) {
      for (const [i, variant] of WHAT_IFS.entries()) {
        log(`what-if round ${round}/${options.whatIfRounds}: ${variant}, ${options.whatIfEvents} events (child process)`);
        const stepOptions: TroupeStepOptions = {
          events: options.whatIfEvents,
          workflows: options.workflows,
          concurrency: options.concurrency,
          latencySamples: 200,
          cacheSize: 10_000,
          runId: `b${runStamp}w${round}v${i}`,
          serverPid,
          consumers,
        };
        const { code, lastLine, stderr } = await runTypeScriptChild([], 'what-if-child.ts', [server.url, variant, JSON.stringify(stepOptions)]);
        if (code !== 0 || lastLine === '') throw new Error(`what-if ${variant} failed (exit ${code}): ${stderr}`);
        whatIfRuns.push({ variant, run: JSON.parse(lastLine) as TroupeStepResult });
      }
    }

    log(`memory per live actor (${options.actors} actors, separate node --expose-gc process)`);
    const memory = await measureMemory({
      actors: options.actors,
      actorsNoIdleTtl: Math.min(options.actors, 20_000),
      midRunActors: options.quick ? 1_000 : 10_000,
      midRunEvents: Math.ceil(options.events / options.workflows) + 1,
      fullWindowActors: options.quick ? 50 : 200,
      cpuSteps: 5_000,
    });

    const ratios = computeRatios(rounds, reactTroupe, langGraph);
    report = {
      startedAt: startedAt.toISOString(),
      durationMs: nowMs() - started,
      options,
      environment: { ...environment, loadAverageAtEnd: os.loadavg() },
      stepSizes,
      floor,
      rounds,
      troupeIoFloor,
      approval,
      passivation,
      scaling,
      react: { troupe: reactTroupe, langGraph },
      replicas,
      rehydration,
      memory,
      profile,
      whatIfRuns,
      ratios,
      targets: [],
    };
    report.targets = checkTargets(report);
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

const troupeStepsPerSec = (rounds: BenchReport['rounds']): number => median(rounds.map((r) => r.troupe.stepsPerSec));

function langGraphRun(runs: (ReactRunResult | SkippedRun)[], checkpointer: string, durability: string): ReactRunResult | null {
  const run = runs.find((r) => r.side.includes(checkpointer) && r.side.includes(`durability ${durability}`));
  return run === undefined || isSkipped(run) ? null : run;
}

function computeRatios(rounds: BenchReport['rounds'], troupe: ReactRunResult, langGraph: (ReactRunResult | SkippedRun)[]): BenchReport['ratios'] {
  const cpu = (r: RateResult | TroupeStepResult): number | null => {
    if (r.cpu === undefined || r.cpu.serverUsPerOp === null) return null;
    return r.cpu.clientUsPerOp + r.cpu.serverUsPerOp;
  };
  const cpuRatios = rounds.map((r) => {
    const floorCpu = cpu(r.floorAck);
    const troupeCpu = cpu(r.troupe);
    return floorCpu === null || troupeCpu === null ? null : floorCpu / troupeCpu;
  });
  const against = (run: ReactRunResult | null): number | null => (run === null ? null : troupe.nodeStepsPerSec / run.nodeStepsPerSec);
  return {
    troupeToFloor: median(rounds.map((r) => r.troupe.stepsPerSec / r.floorAck.opsPerSec)),
    troupeToFloorAckAck: median(rounds.map((r) => r.troupe.stepsPerSec / r.floorAckAck.opsPerSec)),
    cpuCostToFloor: cpuRatios.every((c) => c !== null) ? median(cpuRatios as number[]) : null,
    troupeToLangGraphPostgres: against(langGraphRun(langGraph, 'PostgresSaver', 'async')),
    troupeToLangGraphPostgresSync: against(langGraphRun(langGraph, 'PostgresSaver', 'sync')),
    troupeToLangGraphMemory: against(langGraphRun(langGraph, 'MemorySaver', 'async')),
  };
}

function checkTargets(report: BenchReport): TargetCheck[] {
  const { ratios, memory } = report;
  const ratioCheck = (name: string, value: number | null, target: number): TargetCheck => ({
    name,
    target: `≥ ${target}`,
    value: value === null ? 'not measured' : formatRatio(value),
    met: value === null ? null : value >= target,
  });
  const heap100k = memory.started.actors >= 100_000 ? memory.started.heapUsedAfterBytes - memory.started.heapUsedBeforeBytes : null;
  const latency = report.rounds[0].troupe.latency;
  return [
    ratioCheck('Troupe durable steps/s ÷ JetStream floor (d), both ack()', ratios.troupeToFloor, 0.5),
    ratioCheck('Troupe ÷ LangGraph.js PostgresSaver (ReAct node steps/s)', ratios.troupeToLangGraphPostgres, 3),
    ratioCheck('Troupe ÷ LangGraph.js MemorySaver (ReAct node steps/s)', ratios.troupeToLangGraphMemory, 1),
    {
      name: `heap of 100,000 live actors (${memory.gcExposed ? 'after gc' : 'gc NOT exposed'})`,
      target: '< 1 GiB',
      value: heap100k === null ? `not measured (${memory.started.actors} actors)` : `${(heap100k / 1_048_576).toFixed(0)} MiB`,
      met: heap100k === null ? null : heap100k < GIB,
    },
    {
      name: 'p99 single-event latency at low load (publish → ack)',
      target: '< 5 ms',
      value: latency === null ? 'not measured' : `${formatMs(latency.p99Ms)} ms`,
      met: latency === null ? null : latency.p99Ms < 5,
    },
  ];
}

function rateRow(name: string, result: RateResult): string[] {
  return [name, formatRate(result.opsPerSec), formatMs(result.latency?.p50Ms), formatMs(result.latency?.p99Ms), formatUs(result.cpu?.clientUsPerOp), formatUs(result.cpu?.serverUsPerOp)];
}

const metWord = (met: boolean | null): string => (met === null ? 'not measured' : met ? 'MET' : 'NOT MET');

function renderReport(report: BenchReport): string {
  const { options, floor, stepSizes, ratios } = report;
  const c = options.concurrency;
  const sections: string[] = [];
  const rateHeader = ['', 'ops/s', 'p50 ms', 'p99 ms', 'client CPU µs/op', 'server CPU µs/op'];
  const first = report.rounds[0].troupe;

  sections.push(
    renderTable(
      `The limit: raw JetStream on the same private nats-server (file storage; bodies of a real step: event ${stepSizes.eventBytes} B, record ${stepSizes.persistBytes} B, outbox ${stepSizes.outboxBytes.join(' + ')} B)`,
      rateHeader,
      [
        rateRow('(a) publish + ack, 1 in flight', floor.publishSerial),
        rateRow(`(a) publish + ack, ${options.inFlight} in flight (pipelined)`, floor.publishPipelined),
        rateRow(`(b) pull consume + ack(), ${options.inFlight} pulled`, floor.consumeAck),
        rateRow(`(b) pull consume + ackAck(), ${options.inFlight} in flight`, floor.consumeAckAck),
        rateRow(`(c) KV compare-and-set ${stepSizes.persistBytes} B, 1 in flight`, floor.kvCasSerial),
        rateRow(`(c) KV compare-and-set ${stepSizes.persistBytes} B, ${options.inFlight} in flight`, floor.kvCasPipelined),
        ...report.rounds.flatMap((r, i) => [
          rateRow(`(d) floor of one step: consume + CAS + publish(msgID) + ack(), ${c} in flight [round ${i + 1}]`, r.floorAck),
          rateRow(`(d) the same with ackAck() [round ${i + 1}]`, r.floorAckAck),
        ]),
        rateRow(`(d') Troupe's I/O by hand: CAS, then journal ‖ 2 publishes, ack(), ${c} in flight`, report.troupeIoFloor),
      ],
    ),
  );

  const { approval, passivation, rehydration, memory } = report;
  const troupeRows: string[][] = [
    [`start steps (KV create), ${formatBytes(options.workflows)} workflows`, formatRate(first.startStepsPerSec), '-', '-', '-', '-'],
    ...report.rounds.map((r, i) => [
      `durable steps, ${c} in flight, ${formatBytes(options.workflows)} workflows, warm cache [round ${i + 1}]`,
      formatRate(r.troupe.stepsPerSec),
      '-',
      '-',
      formatUs(r.troupe.cpu.clientUsPerOp),
      formatUs(r.troupe.cpu.serverUsPerOp),
    ]),
    ...(first.latency === null ? [] : [[`single event, 1 in flight: publish → ack (${first.latency.samples} samples)`, '-', formatMs(first.latency.p50Ms), formatMs(first.latency.p99Ms), '-', '-']]),
    [`approval.decided, 1 in flight: publish → next state persisted (${approval.samples})`, '-', formatMs(approval.toPersisted.p50Ms), formatMs(approval.toPersisted.p99Ms), '-', '-'],
    ['approval.decided: publish → ack (follow-up effect published)', '-', formatMs(approval.toAcked.p50Ms), formatMs(approval.toAcked.p99Ms), '-', '-'],
    [
      `passivation: ${formatBytes(passivation.workflows)} workflows, cache ${formatBytes(passivation.cacheSize)} (load per step)`,
      formatRate(passivation.stepsPerSec),
      '-',
      '-',
      formatUs(passivation.cpu.clientUsPerOp),
      formatUs(passivation.cpu.serverUsPerOp),
    ],
    [`cold start: KV load + resolveState, 1 at a time (${rehydration.workflows})`, formatRate(rehydration.serial.perSec), formatMs(rehydration.serial.latency.p50Ms), formatMs(rehydration.serial.latency.p99Ms), '-', '-'],
    [`cold start, ${rehydration.pipelined.inFlight} in flight`, formatRate(rehydration.pipelined.perSec), '-', '-', '-', '-'],
  ];
  sections.push(
    renderTable(
      `Troupe (ActorRuntime + KvSnapshotStore + StreamJournal + publishEnvelope, fed by JetStreamServer from ${options.singleConsumer ? 'the single orchestrator consumer' : `${DEFAULT_PARTITION_COUNT} partition consumers`})`,
      ['', 'steps/s', 'p50 ms', 'p99 ms', 'client CPU µs/step', 'server CPU µs/step'],
      troupeRows,
    ),
  );

  const memoryRow = (name: string, point: MemoryPoint): string[] => [
    name,
    formatBytes(point.actors),
    String(point.appliedIdsPerActor),
    formatBytes(point.bytesPerActor),
    formatBytes((point.heapUsedAfterBytes - point.heapUsedBeforeBytes) / 1_048_576),
    formatBytes((point.bytesPerActor * 100_000) / 1_048_576),
  ];
  sections.push(
    renderTable(
      `Memory per live actor (ActorRuntime cache, test-double stores, heap used after global.gc: ${memory.gcExposed ? 'exposed' : 'NOT exposed, approximate'})`,
      ['point', 'actors', 'applied ids', 'bytes/actor', 'heap MiB', 'MiB per 100k'],
      [
        memoryRow('after the start event (idle TTL on, orchestrator default)', memory.started),
        memoryRow('after the start event, idleMs 0 (no TTL timer per actor)', memory.startedNoIdleTtl),
        memoryRow(`after ${memory.midRun.eventsPerActor} events (as in the step bench)`, memory.midRun),
        memoryRow(`after ${memory.fullWindow.eventsPerActor} events (dedupe window full)`, memory.fullWindow),
      ],
    ),
  );

  const { troupe: reactTroupe, langGraph } = report.react;
  const reactRow = (run: ReactRunResult | SkippedRun): string[] =>
    isSkipped(run)
      ? [run.side, 'skipped', '-', '-', '-', '-', run.skipped.slice(0, 80)]
      : [
          run.side,
          formatRate(run.nodeStepsPerSec),
          run.persistedStepsPerSec === null ? '-' : formatRate(run.persistedStepsPerSec),
          formatUs(run.clientCpuUsPerNodeStep),
          formatUs(run.serverCpuUsPerNodeStep),
          formatBytes(run.heapUsedBytes / 1_048_576),
          run.side === 'Troupe' ? '1.00' : formatRatio(reactTroupe.nodeStepsPerSec / run.nodeStepsPerSec),
        ];
  sections.push(
    renderTable(
      `ReAct workload side by side: ${formatBytes(reactTroupe.workflows)} workflows × ${nodeStepsPerWorkflow(reactTroupe.toolRounds)} node steps (${reactTroupe.toolRounds} reason/act rounds + answer, deterministic mock model and tool), ${c} in flight`,
      ['', 'node steps/s', 'persisted steps/s', 'CPU µs/node step', 'server CPU µs', 'heap MiB', 'Troupe ÷ this'],
      [reactRow(reactTroupe), ...langGraph.map(reactRow)],
    ),
  );

  const scaleRows = report.scaling.map(({ workflows, run }) => [
    formatBytes(workflows),
    formatBytes(run.events),
    formatRate(run.stepsPerSec),
    workflows === 1 ? '-' : formatRate(run.startStepsPerSec),
    formatUs(run.cpu.clientUsPerOp),
    formatUs(run.cpu.serverUsPerOp),
  ]);
  sections.push(renderTable(`Scaling: concurrent workflows (1 process, ${c} handler calls in flight)`, ['workflows', 'bumps', 'steps/s', 'start steps/s', 'client CPU µs/step', 'server CPU µs/step'], scaleRows));
  sections.push(
    renderTable(
      `Scaling: orchestrator replicas as processes on this machine, partitions by lease (${formatBytes(options.workflows)} workflows; start + bump steps)`,
      ['replicas', 'steps', 'steps/s', 'start steps/s', 'partitions per replica', 'replicas CPU µs/step', 'server CPU µs/step', 'lease settle ms'],
      report.replicas.map((point) => [
        String(point.replicas),
        formatBytes(point.steps),
        formatRate(point.stepsPerSec),
        formatRate(point.startStepsPerSec),
        point.reports.map((r) => r.owned.length).join('/'),
        formatUs(point.replicaCpuUsPerStep),
        formatUs(point.serverCpuUsPerStep),
        formatRate(point.leaseSettleMs),
      ]),
    ),
  );

  const ratioText = (value: number | null): string => (value === null ? 'not measured' : formatRatio(value));
  sections.push(
    renderTable('Ratios', ['ratio', 'value'], [
      [`Troupe durable steps/s ÷ floor (d) with ack() (median of ${report.rounds.length})`, ratioText(ratios.troupeToFloor)],
      ['Troupe durable steps/s ÷ floor (d) with ackAck()', ratioText(ratios.troupeToFloorAckAck)],
      ["Troupe ÷ Troupe's I/O by hand (d')", ratioText(troupeStepsPerSec(report.rounds) / report.troupeIoFloor.opsPerSec)],
      ['CPU per step of (d) ack() ÷ of Troupe (bench process + nats-server)', ratioText(ratios.cpuCostToFloor)],
      ['Troupe ÷ LangGraph.js PostgresSaver, durability async (its default)', ratioText(ratios.troupeToLangGraphPostgres)],
      ['Troupe ÷ LangGraph.js PostgresSaver, durability sync', ratioText(ratios.troupeToLangGraphPostgresSync)],
      ['Troupe ÷ LangGraph.js MemorySaver', ratioText(ratios.troupeToLangGraphMemory)],
    ]),
  );
  sections.push(renderTable('Targets (2-core machine)', ['target', 'wanted', 'this run', 'verdict'], report.targets.map((t) => [t.name, t.target, t.value, metWord(t.met)])));

  const phaseRows = PHASES.map((phase) => [
    phase,
    formatMs(first.phasesSerial?.meanMs[phase]),
    first.phasesSerial === null ? '-' : `${Math.round((100 * first.phasesSerial.meanMs[phase]) / first.phasesSerial.stepMeanMs)}%`,
    formatMs(first.phasesLoaded.meanMs[phase]),
    `${Math.round((100 * first.phasesLoaded.meanMs[phase]) / first.phasesLoaded.stepMeanMs)}%`,
  ]);
  phaseRows.push(['step (handler entry → ack)', formatMs(first.phasesSerial?.stepMeanMs), '100%', formatMs(first.phasesLoaded.stepMeanMs), '100%']);
  sections.push(renderTable('Where a durable step spends its time (mean ms per phase; under load the phases include queueing)', ['phase', '1 in flight', 'share', `${c} in flight`, 'share'], phaseRows));

  sections.push(
    renderTable('The runtime alone (ActorRuntime.handle, test-double stores, 1 event at a time)', ['machine', 'steps/s', 'CPU µs/step'], [
      ['bench counter (context factory copes with missing input)', formatRate(memory.cpu.stepsPerSec), formatUs(memory.cpu.cpuUsPerStep)],
      ['the same, context factory reads input unguarded (throws per step, like email-triage)', formatRate(memory.cpuReadingInput.stepsPerSec), formatUs(memory.cpuReadingInput.cpuUsPerStep)],
    ]),
  );

  if (report.whatIfRuns.length > 0) {
    const summary = WHAT_IFS.map((variant) => {
      const runs = report.whatIfRuns.filter((w) => w.variant === variant).map((w) => w.run);
      const servers = runs.map((r) => r.cpu.serverUsPerOp);
      return {
        variant,
        stepsPerSec: median(runs.map((r) => r.stepsPerSec)),
        client: median(runs.map((r) => r.cpu.clientUsPerOp)),
        server: servers.every((us) => us !== null) ? median(servers as number[]) : null,
        p50: median(runs.map((r) => r.latency?.p50Ms ?? 0)),
        p99: median(runs.map((r) => r.latency?.p99Ms ?? 0)),
      };
    });
    sections.push(
      renderTable(
        `What-ifs: the profile's library findings patched at run time in a child process each (bench/what-if.ts; ${options.whatIfEvents} events, medians of ${options.whatIfRounds} round(s); libs unchanged)`,
        ['variant', 'steps/s', 'vs as is', 'client CPU µs/step', 'server CPU µs/step', 'p50 ms', 'p99 ms'],
        summary.map((w) => [w.variant, formatRate(w.stepsPerSec), `${formatRatio(w.stepsPerSec / summary[0].stepsPerSec)}x`, formatUs(w.client), formatUs(w.server), formatMs(w.p50), formatMs(w.p99)]),
      ),
    );
  }

  if (report.profile !== null) {
    const { profile } = report;
    sections.push(
      renderTable(
        `CPU profile of one Troupe step run (V8 profiler via node:inspector, after a warm-up; ${formatRate(profile.run.stepsPerSec)} steps/s while profiled; self time, ${formatRate(profile.totalMs)} ms total)`,
        ['group', 'self ms', 'share'],
        profile.byGroup.map((g) => [g.name, formatRate(g.selfMs), `${(100 * g.share).toFixed(1)}%`]),
      ),
    );
    sections.push(renderTable('Top functions by self time', ['function', 'self ms', 'share'], profile.byFunction.slice(0, 12).map((f) => [f.name, formatRate(f.selfMs), `${(100 * f.share).toFixed(1)}%`])));
    sections.push(
      renderTable(
        'Self time by the nearest Troupe function on the stack (what our code spends, its libraries included)',
        ['Troupe function', 'ms', 'share'],
        profile.byTroupeCaller.slice(0, 12).map((f) => [f.name, formatRate(f.selfMs), `${(100 * f.share).toFixed(1)}%`]),
      ),
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
