import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** Milliseconds since an arbitrary origin, sub-millisecond resolution (monotonic). */
export const nowMs = (): number => performance.now();

/** Operations per second of `count` operations that took `elapsedMs`. */
export function perSecond(count: number, elapsedMs: number): number {
  return elapsedMs <= 0 ? 0 : (count * 1_000) / elapsedMs;
}

/**
 * Steady-state rate of a run from the times (`nowMs`, ascending) at which its operations completed:
 * operations per second between the completion at `from` (0-based index) and the one at `to`, so a
 * ramp-up before and a tail after (e.g. partitions that finish late) do not count.
 */
export function windowRate(completedAt: number[], from: number, to: number): { ops: number; elapsedMs: number; opsPerSec: number } {
  const last = Math.min(to, completedAt.length - 1);
  const first = Math.max(0, Math.min(from, last - 1));
  const elapsedMs = completedAt[last] - completedAt[first];
  return { ops: last - first, elapsedMs, opsPerSec: perSecond(last - first, elapsedMs) };
}

/** The 10 %–90 % window of `count` operations that follow `offset` others: [offset + 10 %, offset + 90 %]. */
export function middleWindow(offset: number, count: number): { from: number; to: number } {
  return { from: offset + Math.floor(count * 0.1), to: offset + Math.max(Math.floor(count * 0.1) + 1, Math.ceil(count * 0.9) - 1) };
}

/** p50 / p90 / p99 / max / mean of latency samples in ms (nearest-rank percentiles). */
export interface LatencySummary {
  samples: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

/** Summarises latency samples (ms). */
export function summarise(samplesMs: number[]): LatencySummary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const at = (q: number): number => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    samples: sorted.length,
    p50Ms: at(0.5),
    p90Ms: at(0.9),
    p99Ms: at(0.99),
    maxMs: sorted.length === 0 ? 0 : sorted[sorted.length - 1],
    meanMs: sorted.length === 0 ? 0 : sum / sorted.length,
  };
}

/**
 * Runs `task(0) … task(total - 1)` with at most `inFlight` running at once (a fixed pool of workers,
 * each taking the next index), and resolves when all are done. The first failure rejects.
 */
export async function pipelined(total: number, inFlight: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const index = next;
      next += 1;
      await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(inFlight, total)) }, worker));
}

/**
 * Runs async work one key at a time in call order (different keys in parallel), as the actor runtime
 * serialises the events of one workflow.
 */
export class KeyedChains {
  private readonly chains = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    this.chains.set(key, next);
    void next
      .finally(() => {
        if (this.chains.get(key) === next) this.chains.delete(key);
      })
      .catch(() => undefined);
    return next;
  }
}

/** A promise with its resolve function outside, for waiting on a condition reported elsewhere. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Rejects with a clear message when `promise` has not settled within `timeoutMs`. */
export async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not done within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** CPU time used (user + system), in ms, by this process and, where /proc allows, by another one. */
export interface CpuSample {
  selfMs: number;
  /** Null when the other process is unknown or /proc cannot be read (not Linux). */
  otherMs: number | null;
}

/** CPU ms spent between two samples. */
export interface CpuSpent {
  selfMs: number;
  otherMs: number | null;
}

/** Clock ticks per second of /proc/<pid>/stat times (`getconf CLK_TCK`; 100 on Linux). */
const CLOCK_TICKS_PER_SEC = 100;

/** Samples the CPU time of this process (all threads) and of process `otherPid` (e.g. nats-server). */
export function sampleCpu(otherPid?: number): CpuSample {
  const usage = process.cpuUsage();
  return { selfMs: (usage.user + usage.system) / 1_000, otherMs: otherPid === undefined ? null : procCpuMs(otherPid) };
}

export function cpuSince(start: CpuSample, otherPid?: number): CpuSpent {
  const end = sampleCpu(otherPid);
  return { selfMs: end.selfMs - start.selfMs, otherMs: end.otherMs === null || start.otherMs === null ? null : end.otherMs - start.otherMs };
}

function procCpuMs(pid: number): number | null {
  try {
    // Fields after the command name, which is in parentheses and may contain spaces: utime is the 12th, stime the 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1_000) / CLOCK_TICKS_PER_SEC;
  } catch {
    return null;
  }
}
