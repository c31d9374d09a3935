/**
 * Memory per live actor and the runtime's CPU cost per step, measured in a process of its own started
 * with `--expose-gc` (bench/memory.ts spawns it), so the heap holds nothing but this measurement.
 * Prints one JSON line, a {@link MemoryChildResult}, on stdout.
 *
 * Usage: node --expose-gc -r ./tools/register.cjs bench/memory-child.ts '<MemoryChildOptions as JSON>'
 */
import { ActorRuntime, type WorkflowDefinition } from '@troupe/actor-runtime';
import type { Envelope } from '@troupe/contracts';
import { benchWorkflow, benchWorkflowReadingInput, bumpedEvent, openedEvent } from './bench-workflow';
import { cpuSince, nowMs, perSecond, sampleCpu } from './measure';
import { DiscardingJournal, DiscardingSnapshotStore } from './test-doubles';

export interface MemoryChildOptions {
  /** Actors built right after their start event. */
  actors: number;
  /** Actors built for the passivation-off comparison. */
  actorsNoIdleTtl: number;
  /** Actors built with `midRunEvents` events each. */
  midRunActors: number;
  midRunEvents: number;
  /** Actors built with a full dedupe window (256 applied ids). */
  fullWindowActors: number;
  /** Steps timed per definition for the CPU figures (after 500 warm-up steps each). */
  cpuSteps: number;
}

/** One memory point: `actors` cached actors that each applied `eventsPerActor` events. */
export interface MemoryPoint {
  actors: number;
  eventsPerActor: number;
  /** Length of each actor's applied-event-ids window at this point. */
  appliedIdsPerActor: number;
  /** The runtime's `idleMs` (0: no idle TTL, so no timer per cached actor). */
  idleMs: number | 'default';
  heapUsedBeforeBytes: number;
  heapUsedAfterBytes: number;
  bytesPerActor: number;
  buildMs: number;
}

export interface MemoryChildResult {
  gcExposed: boolean;
  /** Right after the start event, runtime defaults (idle TTL on, as in the orchestrator). */
  started: MemoryPoint;
  /** The same with `idleMs: 0` (no lru-cache TTL timer per actor). */
  startedNoIdleTtl: MemoryPoint;
  /** After as many events as each workflow of the step bench gets. */
  midRun: MemoryPoint;
  /** With the dedupe window full (256 applied ids, the runtime's default). */
  fullWindow: MemoryPoint;
  /** `ActorRuntime.handle` with test-double stores, one event at a time: the runtime's CPU cost alone (the bench counter). */
  cpu: CpuPerStep;
  /** The same with a context factory that reads its input unguarded and so throws on every step (see bench-workflow.ts). */
  cpuReadingInput: CpuPerStep;
}

/** The runtime's own cost per step: wall-clock rate, and CPU time (robust when the machine is shared). */
export interface CpuPerStep {
  steps: number;
  stepsPerSec: number;
  cpuUsPerStep: number;
}

const BATCH = 1_000;
const DEDUPE_WINDOW = 256;

function heapUsedAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) {
    gc();
    gc();
  }
  return process.memoryUsage().heapUsed;
}

/** As the transport delivers it: parsed from JSON, so ids are flat strings, not concatenations. */
const delivered = (event: Envelope): Envelope => JSON.parse(JSON.stringify(event)) as Envelope;

function runtimeWith(definition: WorkflowDefinition, cacheSize: number, idleMs?: number): ActorRuntime {
  return new ActorRuntime({
    definitions: [definition],
    store: new DiscardingSnapshotStore(),
    journal: new DiscardingJournal(),
    publish: async () => undefined,
    cacheSize,
    ...(idleMs === undefined ? {} : { idleMs }),
  });
}

/**
 * Builds `actors` cached actors with `eventsPerActor` events each and returns the heap they added.
 * The runtime goes into `keepAlive`, so that no runtime is collected during a later measurement.
 */
async function memoryPoint(keepAlive: ActorRuntime[], actors: number, eventsPerActor: number, prefix: string, idleMs?: number): Promise<MemoryPoint> {
  const runtime = runtimeWith(benchWorkflow, actors + 1, idleMs);
  keepAlive.push(runtime);
  const ids = Array.from({ length: actors }, (_, i) => `${prefix}-w${i}`);
  const before = heapUsedAfterGc();
  const started = nowMs();
  for (let n = 0; n < eventsPerActor; n += 1) {
    for (let start = 0; start < actors; start += BATCH) {
      await Promise.all(ids.slice(start, start + BATCH).map((id) => runtime.handle(delivered(n === 0 ? openedEvent(id) : bumpedEvent(id, n)))));
    }
  }
  const buildMs = nowMs() - started;
  const after = heapUsedAfterGc();
  if (runtime.cachedActors !== actors) throw new Error(`expected ${actors} cached actors, found ${runtime.cachedActors}`);
  return {
    actors,
    eventsPerActor,
    appliedIdsPerActor: Math.min(eventsPerActor, DEDUPE_WINDOW),
    idleMs: idleMs ?? 'default',
    heapUsedBeforeBytes: before,
    heapUsedAfterBytes: after,
    bytesPerActor: (after - before) / actors,
    buildMs,
  };
}

/**
 * The runtime's cost per step for each definition: one workflow per definition driven one event at a
 * time through a runtime with test-double stores. The definitions take turns in `BLOCKS` blocks after a
 * warm-up, and each figure is the median over its blocks, so a busy neighbour on a shared machine
 * disturbs both alike.
 */
async function cpuPerStep(definitions: WorkflowDefinition[], steps: number): Promise<CpuPerStep[]> {
  const BLOCKS = 6;
  const perBlock = Math.max(1, Math.floor(steps / BLOCKS));
  const subjects = definitions.map((definition, i) => ({ runtime: runtimeWith(definition, 10), workflowId: `cpu-${i}`, next: 1, rates: [] as number[], cpuUs: [] as number[] }));
  for (const subject of subjects) {
    await subject.runtime.handle(delivered(openedEvent(subject.workflowId)));
    // Warm-up, so the JIT has compiled the path before it is timed.
    for (; subject.next <= 500; subject.next += 1) await subject.runtime.handle(delivered(bumpedEvent(subject.workflowId, subject.next)));
  }
  for (let block = 0; block < BLOCKS; block += 1) {
    // Reversed every other block: whichever definition ran first was slower in both orders.
    for (const subject of block % 2 === 0 ? subjects : [...subjects].reverse()) {
      const started = nowMs();
      const cpu = sampleCpu();
      for (let n = 0; n < perBlock; n += 1, subject.next += 1) await subject.runtime.handle(delivered(bumpedEvent(subject.workflowId, subject.next)));
      subject.cpuUs.push((cpuSince(cpu).selfMs * 1_000) / perBlock);
      subject.rates.push(perSecond(perBlock, nowMs() - started));
    }
  }
  return subjects.map((subject) => ({ steps: perBlock * BLOCKS, stepsPerSec: median(subject.rates), cpuUsPerStep: median(subject.cpuUs) }));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as MemoryChildOptions;
  const [cpu, cpuReadingInput] = await cpuPerStep([benchWorkflow, benchWorkflowReadingInput], options.cpuSteps);
  // Every runtime stays reachable to the end, so none is collected inside a later measurement.
  const keepAlive: ActorRuntime[] = [];
  const result: MemoryChildResult = {
    gcExposed: typeof (globalThis as { gc?: unknown }).gc === 'function',
    started: await memoryPoint(keepAlive, options.actors, 1, 'start'),
    startedNoIdleTtl: await memoryPoint(keepAlive, options.actorsNoIdleTtl, 1, 'no-ttl', 0),
    midRun: await memoryPoint(keepAlive, options.midRunActors, options.midRunEvents, 'mid'),
    fullWindow: await memoryPoint(keepAlive, options.fullWindowActors, DEDUPE_WINDOW + 4, 'full'),
    cpu,
    cpuReadingInput,
  };
  if (keepAlive.length !== 4) throw new Error('a memory point lost its runtime');
  process.stdout.write(`${JSON.stringify(result)}\n`);
  // lru-cache's TTL timers would keep the process alive for `idleMs`.
  process.exit(0);
}

void main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
