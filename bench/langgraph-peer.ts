import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { runTypeScriptChild } from './memory';
import type { ReactRunResult } from './troupe-react';

/** Options of one LangGraph.js run (the child's options; see bench/peer/langgraph-child.ts). */
export interface LangGraphRunOptions {
  checkpointer: 'memory' | 'postgres';
  durability: 'async' | 'sync';
  workflows: number;
  toolRounds: number;
  concurrency: number;
  postgresUrl: string;
  poolSize: number;
  runId: string;
}

/** A LangGraph.js run that could not happen (e.g. no PostgreSQL), with why. */
export interface SkippedRun {
  side: string;
  skipped: string;
}

const BENCH_DIR = __dirname;

/**
 * Installs bench/'s own dev dependencies (the LangGraph.js peer) with `npm ci --prefix bench` when
 * bench/node_modules lacks them, so `npm run bench` works on a fresh clone. They are not in the root
 * package.json on purpose.
 *
 * @throws Error from npm when the install fails.
 */
export function ensurePeerDependencies(log: (line: string) => void): void {
  const needed = ['@langchain/langgraph', '@langchain/langgraph-checkpoint-postgres', 'pg'];
  if (needed.every((name) => existsSync(path.join(BENCH_DIR, 'node_modules', name, 'package.json')))) return;
  log('installing the LangGraph.js peer: npm ci --prefix bench');
  execFileSync('npm', ['ci', '--prefix', BENCH_DIR, '--no-audit', '--no-fund'], { stdio: ['ignore', 'inherit', 'inherit'] });
}

/**
 * Runs the ReAct workload on LangGraph.js in a process of its own (bench/peer/langgraph-child.ts).
 *
 * @returns the run, or a {@link SkippedRun} when the child failed (its stderr's last line says why,
 *   e.g. PostgreSQL refused the connection).
 */
export async function runLangGraph(options: LangGraphRunOptions): Promise<ReactRunResult | SkippedRun> {
  const { code, lastLine, stderr } = await runTypeScriptChild([], path.join('peer', 'langgraph-child.ts'), [JSON.stringify(options)]);
  const side = `LangGraph.js ${options.checkpointer === 'postgres' ? 'PostgresSaver' : 'MemorySaver'} (durability ${options.durability})`;
  if (code !== 0 || lastLine === '') {
    const reason = stderr.trim().split('\n').find((line) => line.trim() !== '') ?? `exit ${code}`;
    return { side, skipped: reason.slice(0, 300) };
  }
  return JSON.parse(lastLine) as ReactRunResult;
}

export function isSkipped(run: ReactRunResult | SkippedRun): run is SkippedRun {
  return 'skipped' in run;
}
