import { createHash } from 'node:crypto';
import path from 'node:path';
import type { NatsConnection } from 'nats';
import { connectToNats, provisionStreams, type NatsConnectionSettings } from '@troupe/bus';
import { REPOSITORY_ROOT, TROUPE_APPS, ensureNatsServer, startApp, type AppProcess } from './stack';

/** The principal the demo's API key stands for, with roles operator and approver. */
export const DEMO_PRINCIPAL_ID = 'demo-operator';

/** Where the demos keep their NATS store and app logs. */
export const DEMO_STATE_DIR = path.join(REPOSITORY_ROOT, '.troupe');

/** Options of {@link startDemoMesh}. */
export interface DemoMeshOptions {
  /** This run's id: the apps' logs go to `.troupe/logs/<runId>/`. */
  runId: string;
  /** How the demo connects to NATS; `servers` is also where a nats-server is started when none listens. */
  nats: NatsConnectionSettings;
  /** Provision the streams first (default true; false under a permissions config that reserves it to an admin). */
  provisionStreams?: boolean;
  /** Stream replicas when provisioning (default: provisionStreams' own). */
  streamReplicas?: number;
  /** The gateway's port. */
  httpPort: number;
  /** Use apps already running instead of starting them. */
  externalApps: boolean;
  /** The API key the gateway will accept for {@link DEMO_PRINCIPAL_ID} (it gets only its SHA-256); required unless `externalApps`. */
  apiKey: string | undefined;
  /** Extra environment for every app this starts. */
  appEnv?: Record<string, string>;
}

/** A running demo mesh: the demo's NATS connection and a way to stop what it started. */
export interface DemoMesh {
  nats: NatsConnection;
  /** Stops the apps (SIGTERM) and the nats-server this started, if any; does not close `nats`. */
  stop(): Promise<void>;
}

/**
 * What every demo job does first: makes sure a nats-server listens at `nats.servers` (starting one with
 * its store in `.troupe/nats` when none does), connects, provisions the streams, and, unless
 * `externalApps`, starts the four apps as processes, the gateway accepting `apiKey`; resolves when all
 * are ready. Ctrl-C stops what it started.
 *
 * @throws Error when nats-server cannot be started, NATS refuses the connection, or an app is not ready in time.
 */
export async function startDemoMesh(options: DemoMeshOptions): Promise<DemoMesh> {
  const storeDir = path.join(DEMO_STATE_DIR, 'nats');
  const natsProcess = await ensureNatsServer(options.nats.servers, storeDir);
  console.log(natsProcess === null ? `NATS: using the server at ${options.nats.servers}` : `NATS: started nats-server -js at ${options.nats.servers} (store ${storeDir})`);
  const nats = await connectToNats(options.nats);
  if (options.provisionStreams !== false) await provisionStreams(await nats.jetstreamManager(), undefined, { replicas: options.streamReplicas });

  const apps: AppProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(apps.map((app) => app.stop('SIGTERM')));
    natsProcess?.kill('SIGTERM');
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  if (!options.externalApps) {
    if (options.apiKey === undefined) throw new Error('startDemoMesh: starting the apps needs the API key the gateway will accept');
    const logDir = path.join(DEMO_STATE_DIR, 'logs', options.runId);
    console.log(`Starting ${TROUPE_APPS.join(', ')} (logs in ${path.relative(process.cwd(), logDir)}/) …`);
    const keys = JSON.stringify([{ id: DEMO_PRINCIPAL_ID, sha256: createHash('sha256').update(options.apiKey).digest('hex'), roles: ['operator', 'approver'] }]);
    for (const app of TROUPE_APPS) {
      const env: Record<string, string> = { NATS_URL: options.nats.servers, TROUPE_HTTP_PORT: String(options.httpPort), ...options.appEnv };
      if (app === 'gateway') env.TROUPE_GATEWAY_API_KEYS = keys;
      apps.push(startApp(app, { env, logFile: path.join(logDir, `${app}.log`) }));
    }
    await Promise.all(apps.map((app) => app.ready));
  }
  return { nats, stop };
}
