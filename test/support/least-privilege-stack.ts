import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import type { TroupeApp } from '../../apps/demo/src/stack';
import { REPOSITORY_ROOT } from '../../apps/demo/src/stack';
import { startTroupeStack, type TroupeStack, type TroupeStackOptions } from './troupe-stack';

/** The least-privilege NATS configuration: one user per app (deploy/nats/troupe-permissions.conf). */
export const PERMISSIONS_CONFIG = path.join(REPOSITORY_ROOT, 'deploy', 'nats', 'troupe-permissions.conf');

/** The users of {@link PERMISSIONS_CONFIG}. */
export const NATS_USERS = ['admin', 'orchestrator', 'supervisor', 'agents', 'gateway', 'approval-client', 'producer'] as const;
export type NatsUser = (typeof NATS_USERS)[number];

/** The server's environment variable holding a user's password (deploy/nats/troupe-permissions.conf). */
export const passwordVariable = (user: NatsUser): string => `TROUPE_NATS_${user.toUpperCase().replace(/-/g, '_')}_PASSWORD`;

/** The names of the test's own connections ({@link LeastPrivilegeStack.as}), as the server logs them. */
const TEST_CONNECTION = new RegExp(`\\be2e-(?:${NATS_USERS.join('|')})\\b`);

/** A {@link TroupeStack} whose nats-server runs {@link PERMISSIONS_CONFIG}, each app on its own user. */
export interface LeastPrivilegeStack {
  stack: TroupeStack;
  /** A fresh random password per user, for this stack only. */
  passwords: Record<NatsUser, string>;
  /** A connection of the test as `user` (name `e2e-<user>`), closed by `stop()`. */
  as(user: NatsUser): Promise<NatsConnection>;
  /** The nats-server log lines that report a permissions violation by anyone but the test's own `e2e-<user>` connections. */
  appViolations(): string[];
  /** The app log files (in `stack.logDir`) that mention a permissions violation. */
  appLogsWithViolations(): string[];
  /** Closes the test's connections and stops the stack. */
  stop(): Promise<void>;
}

/**
 * Starts nats-server with deploy/nats/troupe-permissions.conf (a random password per user in its
 * environment) and the apps, each on its own user: the agents read theirs from a file
 * (`NATS_PASSWORD_FILE`, as from a mounted secret), the others from `NATS_PASSWORD`. The test's own
 * connection is admin (it provisions the streams and follows the change feed), and the apps do not
 * provision (`TROUPE_PROVISION_STREAMS=false`). `options.appEnv` adds to each app's user environment.
 */
export async function startLeastPrivilegeStack(options: Pick<TroupeStackOptions, 'env' | 'appEnv' | 'gatewayEnv'> = {}): Promise<LeastPrivilegeStack> {
  // nats-server parses a `$VARIABLE`'s value as a config token: one starting with a digit is read as a
  // number and the server refuses to start, so each password starts with a letter.
  const passwords = Object.fromEntries(NATS_USERS.map((user) => [user, `p${randomBytes(18).toString('base64url')}`])) as Record<NatsUser, string>;
  const agentsPasswordFile = path.join(tmpdir(), `troupe-agents-password-${process.pid}-${randomBytes(4).toString('hex')}`);
  writeFileSync(agentsPasswordFile, `${passwords.agents}\n`, { mode: 0o600 });
  const userEnv: Record<TroupeApp, Record<string, string>> = {
    orchestrator: { NATS_USER: 'orchestrator', NATS_PASSWORD: passwords.orchestrator },
    supervisor: { NATS_USER: 'supervisor', NATS_PASSWORD: passwords.supervisor },
    agents: { NATS_USER: 'agents', NATS_PASSWORD_FILE: agentsPasswordFile },
    gateway: { NATS_USER: 'gateway', NATS_PASSWORD: passwords.gateway },
  };
  const stack = await startTroupeStack({
    natsServer: { configFile: PERMISSIONS_CONFIG, env: Object.fromEntries(NATS_USERS.map((user) => [passwordVariable(user), passwords[user]])) },
    natsUser: { user: 'admin', pass: passwords.admin },
    env: { TROUPE_PROVISION_STREAMS: 'false', ...options.env },
    gatewayEnv: options.gatewayEnv,
    appEnv: Object.fromEntries(Object.entries(userEnv).map(([app, env]) => [app, { ...env, ...options.appEnv?.[app as TroupeApp] }])),
  });
  const clients: NatsConnection[] = [];
  return {
    stack,
    passwords,
    async as(user) {
      const connection = await connect({ servers: stack.nats.url, user, pass: passwords[user], name: `e2e-${user}` });
      clients.push(connection);
      return connection;
    },
    appViolations: () => stack.nats.violations().filter((line) => !TEST_CONNECTION.test(line)),
    appLogsWithViolations: () => readdirSync(stack.logDir).filter((file) => /permissions[ _]violation/i.test(readFileSync(path.join(stack.logDir, file), 'utf8'))),
    async stop() {
      await Promise.all(clients.map((client) => client.close()));
      await stack.stop();
    },
  };
}
