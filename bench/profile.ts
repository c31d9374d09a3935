import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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
  /** Where the .cpuprofile was kept (open it in Chrome DevTools), or null when it was removed. */
  file: string | null;
}

/** The subset of V8's .cpuprofile format read here. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * Runs one Troupe step run (bench/profile-child.ts) under `node --cpu-prof` against `natsUrl` and
 * summarises where the process spent its CPU time (self time, grouped). The profile covers the whole
 * child, start-up and publishing included; the step run dominates it.
 *
 * @throws Error when the child fails or writes no profile.
 */
export async function profileTroupeSteps(natsUrl: string, options: TroupeStepOptions, keepIn?: string): Promise<ProfileSummary> {
  const dir = mkdtempSync(path.join(tmpdir(), 'troupe-bench-prof-'));
  try {
    const { code, lastLine: line, stderr } = await runTypeScriptChild(['--cpu-prof', '--cpu-prof-dir', dir], 'profile-child.ts', [
      natsUrl,
      JSON.stringify(options),
    ]);
    const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
    if (code !== 0 || line === '' || file === undefined) throw new Error(`profiled run failed (exit ${code}): ${stderr}`);
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
  const groups = new Map<string, number>();
  const functions = new Map<string, number>();
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
  });
  const ranked = (map: Map<string, number>, top: number): ProfileShare[] =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, selfMs: us / 1_000, share: totalUs === 0 ? 0 : us / totalUs }));
  return { totalMs: totalUs / 1_000, byGroup: ranked(groups, 16), byFunction: ranked(functions, 20) };
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
