import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runTypeScriptChild } from './memory';
import type { TroupeStepOptions, TroupeStepResult } from './troupe-steps';

/** Self time of one group of code (a package, a library, the GC, idle) in a CPU profile. */
export interface ProfileShare {
  name: string;
  selfMs: number;
  share: number;
}

export interface ProfileSummary {
  /** The run the profile was taken of (its throughput is lower than unprofiled). */
  run: TroupeStepResult;
  totalMs: number;
  /** Self time by package / library / V8 pseudo-node, largest first. */
  byGroup: ProfileShare[];
  /** Self time by function, largest first. */
  byFunction: ProfileShare[];
  /**
   * Self time charged to the nearest Troupe function on the stack (libs/, bench/; the library code it
   * called, nats.js and zod included), largest first: which of our calls the time is spent under.
   */
  byTroupeCaller: ProfileShare[];
  /** Where the .cpuprofile was kept (open it in Chrome DevTools), or null when it was removed. */
  file: string | null;
}

/** The subset of V8's .cpuprofile format read here. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * Runs one Troupe step run (bench/profile-child.ts) under the V8 CPU profiler against `natsUrl` and
 * summarises where the process spent its CPU time (self time, grouped). The profile covers the step
 * run only (publishing the events first included), after a warm-up run; not start-up.
 *
 * @throws Error when the child fails or writes no profile.
 */
export async function profileTroupeSteps(natsUrl: string, options: TroupeStepOptions, keepIn?: string): Promise<ProfileSummary> {
  const dir = mkdtempSync(path.join(tmpdir(), 'troupe-bench-prof-'));
  try {
    const file = `troupe-steps-${options.runId}.cpuprofile`;
    const { code, lastLine: line, stderr } = await runTypeScriptChild([], 'profile-child.ts', [natsUrl, JSON.stringify(options), path.join(dir, file)]);
    if (code !== 0 || line === '' || !existsSync(path.join(dir, file))) throw new Error(`profiled run failed (exit ${code}): ${stderr}`);
    const summary = summarise(JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile);
    let kept: string | null = null;
    if (keepIn !== undefined) {
      kept = path.join(keepIn, file);
      copyFileSync(path.join(dir, file), kept);
    }
    return { run: JSON.parse(line) as TroupeStepResult, ...summary, file: kept };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Self time per sample node, grouped by package (node_modules), source folder, or V8 pseudo-node. */
function summarise(profile: CpuProfile): Omit<ProfileSummary, 'run' | 'file'> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const groups = new Map<string, number>();
  const functions = new Map<string, number>();
  const callers = new Map<string, number>();
  const troupeCaller = (id: number): string => {
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const frame = byId.get(at);
      if (frame !== undefined && /\/(libs\/[^/]+|bench)\//.test(frame.url) && !frame.url.includes('node_modules')) {
        return `${frame.functionName === '' ? '(anonymous)' : frame.functionName} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
      }
    }
    const frame = byId.get(id);
    return frame !== undefined && frame.url === '' && frame.functionName.startsWith('(') ? frame.functionName : '(no Troupe frame: transport, timers, I/O callbacks)';
  };
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const deltaUs = profile.timeDeltas[i] ?? 0;
    const frame = byId.get(id);
    if (frame === undefined) return;
    totalUs += deltaUs;
    const group = groupOf(frame.url, frame.functionName);
    groups.set(group, (groups.get(group) ?? 0) + deltaUs);
    const fn = `${frame.functionName === '' ? '(anonymous)' : frame.functionName} ${shortUrl(frame.url)}${frame.url === '' ? '' : `:${frame.lineNumber + 1}`}`;
    functions.set(fn, (functions.get(fn) ?? 0) + deltaUs);
    const caller = troupeCaller(id);
    callers.set(caller, (callers.get(caller) ?? 0) + deltaUs);
  });
  const ranked = (map: Map<string, number>, top: number): ProfileShare[] =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, selfMs: us / 1_000, share: totalUs === 0 ? 0 : us / totalUs }));
  return { totalMs: totalUs / 1_000, byGroup: ranked(groups, 16), byFunction: ranked(functions, 20), byTroupeCaller: ranked(callers, 16) };
}

function groupOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : `native (${functionName})`;
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inPackage !== null) return inPackage[1];
  if (url.startsWith('node:')) return 'node internals';
  const local = /\/(libs\/[^/]+|apps\/[^/]+|statecharts|bench|test)\//.exec(url);
  return local !== null ? local[1] : 'other';
}

function shortUrl(url: string): string {
  return url.replace(/^.*node_modules\//, '').replace(/^file:\/\//, '').replace(/^.*?\/(libs|apps|bench|statecharts|test)\//, '$1/');
}
