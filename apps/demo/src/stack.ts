import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import path from 'node:path';

/** The Troupe apps the embedded stack runs, each as its own process. */
export const TROUPE_APPS = ['orchestrator', 'supervisor', 'agents', 'gateway'] as const;
export type TroupeApp = (typeof TROUPE_APPS)[number];

/** Repository root (where package.json and tools/ live). */
export const REPOSITORY_ROOT = path.resolve(__dirname, '..', '..', '..');

/** One running app process. */
export interface AppProcess {
  app: TroupeApp;
  process: ChildProcess;
  /** Resolves when the app logged that it is ready; rejects if it exits first or after `timeoutMs`. */
  ready: Promise<void>;
  /** Sends `signal` and resolves when the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts one app from its TypeScript sources (`node -r tools/register.cjs apps/<app>/src/main.ts`),
 * with `env` added to this process's environment, stdout and stderr appended to `logFile`.
 */
export function startApp(app: TroupeApp, options: { env: Record<string, string>; logFile: string; timeoutMs?: number }): AppProcess {
  mkdirSync(path.dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const child = spawn(process.execPath, ['-r', path.join(REPOSITORY_ROOT, 'tools', 'register.cjs'), path.join(REPOSITORY_ROOT, 'apps', app, 'src', 'main.ts')], {
    cwd: REPOSITORY_ROOT,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const timeoutMs = options.timeoutMs ?? 120_000;
  const ready = new Promise<void>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${app} was not ready within ${timeoutMs} ms (log: ${options.logFile})`)), timeoutMs);
    const watch = (chunk: Buffer): void => {
      // eslint-disable-next-line no-control-regex
      seen = (seen + chunk.toString().replace(/\u001b\[[0-9;]*m/g, '')).slice(-2_000);
      if (/\bready\b/.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', watch);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${app} exited before it was ready (code ${code}, signal ${signal}); see ${options.logFile}`));
    });
  });
  ready.catch(() => undefined);
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return {
    app,
    process: child,
    ready,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** True when something accepts TCP connections at `host:port` within 1 s. */
export function isListening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ host, port });
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Makes sure a NATS server with JetStream listens at `natsUrl`: if nothing listens there and
 * `nats-server` is on PATH, starts one with its store in `storeDir`. Returns the started process (to stop
 * at the end), or null when a server was already there.
 *
 * @throws Error when nothing listens and no `nats-server` binary is found, or it does not come up in 10 s.
 */
export async function ensureNatsServer(natsUrl: string, storeDir: string): Promise<ChildProcess | null> {
  const url = new URL(natsUrl.split(',')[0].trim().replace(/^nats:/, 'http:'));
  const host = url.hostname;
  const port = Number(url.port || 4222);
  if (await isListening(host, port)) return null;
  const which = spawnSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' });
  const binary = process.env.NATS_SERVER_BIN ?? (which.status === 0 ? which.stdout.trim() : '');
  if (binary === '') {
    throw new Error(`nothing listens at ${natsUrl} and nats-server is not on PATH (Debian: apt-get install -y nats-server)`);
  }
  mkdirSync(storeDir, { recursive: true });
  const child = spawn(binary, ['-a', host, '-p', String(port), '-js', '-sd', storeDir], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  while (!(await isListening(host, port))) {
    if (child.exitCode !== null) throw new Error(`nats-server exited with code ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error('nats-server did not listen within 10 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  return child;
}
