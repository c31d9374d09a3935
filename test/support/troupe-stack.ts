import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, DeliverPolicy, type NatsConnection } from 'nats';
import { provisionStreams, publishEnvelope } from '@troupe/bus';
import { STREAMS, DeadLetter, decodeEnvelope, emailReceivedEnvelope, workflowEventTypeSubject, type JournalEntry, type Role } from '@troupe/contracts';
import { parseCorpusEmail, type CorpusEmail } from '@troupe/email-corpus';
import type { Persistence } from '@troupe/persistence';
import { TROUPE_APPS, startApp, type AppProcess, type TroupeApp } from '../../apps/demo/src/stack';
import { RunTracker } from '../../apps/demo/src/tracker';
import { freePort, startNatsServer, type NatsServerHandle, type NatsServerOptions } from './nats-server';

/** The four apps as real processes against a private nats-server, for end-to-end tests. */
export interface TroupeStack {
  nats: NatsServerHandle;
  connection: NatsConnection;
  gatewayUrl: string;
  /**
   * A random API key per role, fresh for each stack (the gateway is given only their SHA-256); the key
   * of role `r` belongs to the identity `e2e-<r>` with that one role.
   */
  apiKeys: Record<Role, string>;
  /** `{ 'x-api-key': <key of role> }` (default `approver`), plus `content-type: application/json`. */
  headers(role?: Role): Record<string, string>;
  /** One process per app; for the orchestrator, replica 0. */
  apps: Map<TroupeApp, AppProcess>;
  /** Every orchestrator replica, in replica order (replica 0 is `apps.get('orchestrator')`). */
  orchestrators: AppProcess[];
  logDir: string;
  tracker: RunTracker;
  /** Starts (or restarts) one app and waits until it is ready; `orchestrator` is replica 0. */
  start(app: TroupeApp): Promise<AppProcess>;
  /** Starts (or restarts) orchestrator replica `replica` (0-based) and waits until it is ready. */
  startOrchestrator(replica: number): Promise<AppProcess>;
  stop(): Promise<void>;
}

/** Options of {@link startTroupeStack}. */
export interface TroupeStackOptions {
  /** Orchestrator replicas to run (default 1); they share the partitions by leases. */
  orchestrators?: number;
  /**
   * Partition lease TTL of the orchestrators, ms (default: `TROUPE_PARTITION_LEASE_TTL_MS` of this
   * process if set, else 3,000, so a killed orchestrator's partitions move within seconds).
   */
  leaseTtlMs?: number;
  /** More environment for the gateway only (e.g. `TROUPE_JWT_*`). */
  gatewayEnv?: Record<string, string>;
  /** More environment for every app (e.g. the scripted model and the test-only telemetry files). */
  env?: Record<string, string>;
  /** More environment for one app (e.g. its own `NATS_USER` and `NATS_PASSWORD`). */
  appEnv?: Partial<Record<TroupeApp, Record<string, string>>>;
  /** How to start nats-server (e.g. with deploy/nats/troupe-permissions.conf). */
  natsServer?: NatsServerOptions;
  /** The test's own NATS user (provisions the streams, tracks changes, publishes), when the server requires one. */
  natsUser?: { user: string; pass: string };
}

const ROLES: Role[] = ['viewer', 'operator', 'approver', 'admin'];

/**
 * Starts nats-server on a free port, provisions the streams, starts every app (the orchestrator as
 * `options.orchestrators` replicas) and a change tracker.
 */
export async function startTroupeStack(options: TroupeStackOptions = {}): Promise<TroupeStack> {
  const nats = await startNatsServer(options.natsServer);
  const connection = await connect({ servers: nats.url, ...options.natsUser });
  await provisionStreams(await connection.jetstreamManager());
  const httpPort = await freePort();
  const logDir = mkdtempSync(path.join(tmpdir(), 'troupe-e2e-logs-'));
  const apps = new Map<TroupeApp, AppProcess>();
  const orchestrators: AppProcess[] = [];
  const apiKeys = Object.fromEntries(ROLES.map((role) => [role, randomBytes(24).toString('base64url')])) as Record<Role, string>;
  const env = {
    NATS_URL: nats.url,
    TROUPE_HTTP_PORT: String(httpPort),
    TROUPE_PARTITION_LEASE_TTL_MS: String(options.leaseTtlMs ?? process.env.TROUPE_PARTITION_LEASE_TTL_MS ?? 3_000),
    ...options.env,
  };
  const gatewayEnv = {
    ...env,
    TROUPE_GATEWAY_API_KEYS: JSON.stringify(
      ROLES.map((role) => ({ id: `e2e-${role}`, sha256: createHash('sha256').update(apiKeys[role]).digest('hex'), roles: [role] })),
    ),
    ...options.gatewayEnv,
  };
  const startOrchestrator = async (replica: number): Promise<AppProcess> => {
    const started = startApp('orchestrator', { env: { ...env, ...options.appEnv?.orchestrator }, logFile: path.join(logDir, replica === 0 ? 'orchestrator.log' : `orchestrator-${replica}.log`) });
    orchestrators[replica] = started;
    if (replica === 0) apps.set('orchestrator', started);
    await started.ready;
    return started;
  };
  const start = async (app: TroupeApp): Promise<AppProcess> => {
    if (app === 'orchestrator') return startOrchestrator(0);
    const started = startApp(app, { env: { ...(app === 'gateway' ? gatewayEnv : env), ...options.appEnv?.[app] }, logFile: path.join(logDir, `${app}.log`) });
    apps.set(app, started);
    await started.ready;
    return started;
  };
  const tracker = new RunTracker(connection);
  await tracker.start(new Date(Date.now() - 1_000));
  const replicas = Array.from({ length: Math.max(1, options.orchestrators ?? 1) }, (_, replica) => replica);
  await Promise.all([...TROUPE_APPS.filter((app) => app !== 'orchestrator').map((app) => start(app)), ...replicas.map((replica) => startOrchestrator(replica))]);
  return {
    nats,
    connection,
    gatewayUrl: `http://127.0.0.1:${httpPort}`,
    apiKeys,
    headers: (role: Role = 'approver') => ({ 'content-type': 'application/json', 'x-api-key': apiKeys[role] }),
    apps,
    orchestrators,
    logDir,
    tracker,
    start,
    startOrchestrator,
    async stop() {
      await tracker.stop();
      await Promise.all([...new Set([...apps.values(), ...orchestrators])].map((app) => app.stop('SIGTERM')));
      await connection.drain();
      await nats.stop();
    },
  };
}

/** Publishes `email.received` for each email under `triage-<prefix>-<n>`; returns the workflow ids. */
export async function publishEmails(stack: TroupeStack, prefix: string, emails: CorpusEmail[]): Promise<string[]> {
  const js = stack.connection.jetstream();
  const ids: string[] = [];
  for (const [index, corpusEmail] of emails.entries()) {
    const workflowId = `triage-${prefix}-${index}`;
    const envelope = emailReceivedEnvelope(workflowId, await parseCorpusEmail(corpusEmail), { source: 'e2e-test', occurredAt: new Date().toISOString() });
    stack.tracker.track([workflowId]);
    await publishEnvelope(js, workflowEventTypeSubject(workflowId, envelope.type), envelope, { msgId: envelope.id });
    ids.push(workflowId);
  }
  return ids;
}

/** Every dead letter published since `since`, read from the DEAD_LETTERS stream until `count` arrived or `timeoutMs`. */
export async function readDeadLetters(connection: NatsConnection, since: Date, count: number, timeoutMs = 20_000): Promise<Array<{ subject: string; letter: DeadLetter }>> {
  const consumer = await connection.jetstream().consumers.get(STREAMS.deadLetters.name, {
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: since.toISOString(),
  });
  const letters: Array<{ subject: string; letter: DeadLetter }> = [];
  const deadline = Date.now() + timeoutMs;
  while (letters.length < count && Date.now() < deadline) {
    const message = await consumer.next({ expires: 1_000 });
    if (message === null) continue;
    letters.push({ subject: message.subject, letter: DeadLetter.parse(message.json()) });
  }
  return letters;
}

/** Polls `GET url` (with `headers`, e.g. `stack.headers()`) until `predicate(body)` holds or `timeoutMs` passes; returns the last body. */
export async function pollJson<T>(url: string, predicate: (body: T) => boolean, timeoutMs = 30_000, headers: Record<string, string> = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let body: T | undefined;
  for (;;) {
    const response = await fetch(url, { headers });
    body = (await response.json()) as T;
    if (response.ok && predicate(body)) return body;
    if (Date.now() > deadline) return body;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The payload of the last event of `type` for `workflowId` in the workflow events stream, or null when there is none. */
export async function lastWorkflowEventPayload(connection: NatsConnection, workflowId: string, type: string): Promise<unknown> {
  const jsm = await connection.jetstreamManager();
  const message = await jsm.streams.getMessage(STREAMS.workflowEvents.name, { last_by_subj: workflowEventTypeSubject(workflowId, type) }).catch(() => null);
  return message === null ? null : decodeEnvelope(message.data).payload;
}

/**
 * A workflow's journal once it reaches the record's version: the journal is appended alongside the
 * outbox, so right after a change is seen its entry may still be on its way (polls up to `timeoutMs`).
 */
export async function readJournalAtVersion(persistence: Persistence, workflowId: string, timeoutMs = 5_000): Promise<JournalEntry[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const record = await persistence.snapshots.load(workflowId);
    const journal = await persistence.journal.read(workflowId);
    if (record === null || journal.at(-1)?.seq === record.version || Date.now() > deadline) return journal;
    await new Promise((r) => setTimeout(r, 50));
  }
}
