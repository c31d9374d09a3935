import { spawn } from 'node:child_process';
import path from 'node:path';
import type { MemoryChildOptions, MemoryChildResult } from './memory-child';

/** tools/register.cjs, which runs the TypeScript sources. */
export const REGISTER = path.join(__dirname, '..', 'tools', 'register.cjs');

/**
 * Runs bench/memory-child.ts in a fresh `node --expose-gc` process (the npm script cannot pass node
 * flags, and a process of its own keeps the heap clean) and returns what it measured.
 *
 * @throws Error when the child fails or prints no result.
 */
export async function measureMemory(options: MemoryChildOptions): Promise<MemoryChildResult> {
  const { code, lastLine, stderr } = await runTypeScriptChild(['--expose-gc'], 'memory-child.ts', [JSON.stringify(options)]);
  if (code !== 0 || lastLine === '') throw new Error(`memory bench failed (exit ${code}): ${stderr}`);
  return JSON.parse(lastLine) as MemoryChildResult;
}

/**
 * Runs `bench/<script>` in a fresh node process with `nodeFlags`, through tools/register.cjs, and
 * resolves when it exits with its exit code, the last line it printed and the tail of its stderr.
 */
export async function runTypeScriptChild(
  nodeFlags: string[],
  script: string,
  args: string[],
): Promise<{ code: number | null; lastLine: string; stderr: string }> {
  const child = spawn(process.execPath, [...nodeFlags, '-r', REGISTER, path.join(__dirname, script), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  return { code, lastLine: stdout.trim().split('\n').pop() ?? '', stderr };
}
