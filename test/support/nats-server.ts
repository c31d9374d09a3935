import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A `nats-server -js` process started for one test file, on a free loopback port with a temp store dir. */
export interface NatsServerHandle {
  url: string;
  port: number;
  storeDir: string;
  process: ChildProcess;
  /** The last 64 KiB the server wrote to stderr (its log: permission violations, errors). */
  log(): string;
  /** Every log line reporting a permissions violation since the start (kept whole, unlike `log()`). */
  violations(): string[];
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and removes the store dir. */
  stop(): Promise<void>;
}

/** A TCP port free on 127.0.0.1 at the time of the call. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new Error('no port'));
      server.close(() => resolve(address.port));
    });
  });
}

/** Resolves once something accepts TCP connections on `port`, or rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = netConnect({ host: '127.0.0.1', port }, () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listened on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** How {@link startNatsServer} runs the server. */
export interface NatsServerOptions {
  extraArgs?: string[];
  /** A configuration file (`-c`), e.g. deploy/nats/troupe-permissions.conf; the port, host and store dir still come from the helper. */
  configFile?: string;
  /** More environment for the server (a configuration's `$VARIABLES`, e.g. passwords). */
  env?: Record<string, string>;
}

/**
 * Starts `nats-server` with JetStream (the binary from PATH or `NATS_SERVER_BIN`), like nats.js's own
 * test helper `jetstreamServerConf()`.
 *
 * @throws Error when the binary is missing or the server does not listen within 10 s.
 */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const port = await freePort();
  const storeDir = mkdtempSync(path.join(tmpdir(), 'troupe-nats-'));
  const bin = process.env.NATS_SERVER_BIN ?? 'nats-server';
  const config = options.configFile === undefined ? [] : ['-c', options.configFile];
  const child = spawn(bin, [...config, '-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir, ...(options.extraArgs ?? [])], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  let stderr = '';
  let partialLine = '';
  const violations: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    stderr = (stderr + text).slice(-65_536);
    const lines = (partialLine + text).split('\n');
    partialLine = lines.pop() ?? '';
    violations.push(...lines.filter((line) => line.includes('Violation')));
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`nats-server exited early (${code}): ${stderr}`))),
  );
  child.once('error', () => undefined);
  await Promise.race([waitForPort(port), exited]);
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    process: child,
    log: () => stderr,
    violations: () => [...violations, ...(partialLine.includes('Violation') ? [partialLine] : [])],
    async stop() {
      if (child.exitCode === null) {
        const done = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await done;
        clearTimeout(timer);
      }
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
