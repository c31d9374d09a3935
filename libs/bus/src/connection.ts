import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, type ConnectionOptions, type NatsConnection } from 'nats';

/** How to reach NATS. `servers` is a URL or comma-separated list (e.g. `nats://127.0.0.1:4222`). */
export interface NatsConnectionSettings {
  servers: string;
  /** Client name shown by the server (`nats server report connections`). */
  name: string;
  user?: string;
  pass?: string;
  /** A file holding the password (read at connect; surrounding whitespace dropped); used when `pass` is absent. */
  passwordFile?: string;
  token?: string;
  /** A NATS credentials file (`nsc` format: user JWT and nkey seed), read at connect. */
  credentialsFile?: string;
}

/**
 * The connection settings of an app from its parsed environment (`NATS_URL`, `NATS_USER`,
 * `NATS_PASSWORD` or `NATS_PASSWORD_FILE`, `NATS_CREDENTIALS_FILE`). Secrets are only read, never logged.
 */
export function natsSettingsFromEnvironment(
  env: { NATS_URL: string; NATS_USER?: string; NATS_PASSWORD?: string; NATS_PASSWORD_FILE?: string; NATS_CREDENTIALS_FILE?: string },
  name: string,
): NatsConnectionSettings {
  return { servers: env.NATS_URL, name, user: env.NATS_USER, pass: env.NATS_PASSWORD, passwordFile: env.NATS_PASSWORD_FILE, credentialsFile: env.NATS_CREDENTIALS_FILE };
}

/**
 * Opens a NATS connection that reconnects forever (2 s between attempts), as a long-lived service
 * should. The caller owns the connection and drains it on shutdown.
 *
 * @throws Error from nats.js when no server answers the first attempt or the credentials are refused;
 *   Error (naming the file, not its content) when a password or credentials file cannot be read.
 */
export async function connectToNats(settings: NatsConnectionSettings): Promise<NatsConnection> {
  const pass = settings.pass ?? (settings.passwordFile === undefined ? undefined : readSecretFile(settings.passwordFile, 'NATS password'));
  const options: ConnectionOptions = {
    servers: settings.servers.split(',').map((s) => s.trim()),
    name: settings.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 2_000,
    // No stack trace captured per request: it was a fifth of a durable step's CPU (bench/README.md).
    noAsyncTraces: true,
    ...(settings.user !== undefined ? { user: settings.user, pass } : {}),
    ...(settings.token !== undefined ? { token: settings.token } : {}),
    ...(settings.credentialsFile !== undefined
      ? { authenticator: credsAuthenticator(new TextEncoder().encode(readSecretFile(settings.credentialsFile, 'NATS credentials'))) }
      : {}),
  };
  return connect(options);
}

function readSecretFile(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new Error(`cannot read the ${what} file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`, { cause: error });
  }
}
