import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import { parseAllDocuments } from 'yaml';
import { STREAMS } from '@troupe/contracts';
import { freePort, waitForPort } from '@troupe/testing';
import { REPOSITORY_ROOT } from '../../apps/demo/src/stack';

// deploy/kubernetes without a cluster: the manifests parse, every ConfigMap and Secret they use is one
// the kustomization generates (with the keys asked for), each app connects as its own NATS user of the
// permissions config with a mounted password file, and the NATS config of the StatefulSet, run as three
// local servers with the environment the manifest gives them, takes exactly those users; the Job's
// entry point provisions the streams as admin, and is refused as an app's user.

const SOURCE = path.join(REPOSITORY_ROOT, 'deploy', 'kubernetes');
const PERMISSIONS = path.join(REPOSITORY_ROOT, 'deploy', 'nats', 'troupe-permissions.conf');
const APPS = ['orchestrator', 'supervisor', 'agents', 'gateway'] as const;

type Manifest = { kind: string; metadata: { name: string }; spec?: Record<string, unknown> } & Record<string, unknown>;
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean }; configMapKeyRef?: { name: string; key: string; optional?: boolean }; fieldRef?: { fieldPath: string } };
}
interface Container {
  name: string;
  env?: EnvVar[];
  envFrom?: Array<{ configMapRef?: { name: string; optional?: boolean }; secretRef?: { name: string; optional?: boolean } }>;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}
interface Volume {
  name: string;
  configMap?: { name: string; items?: Array<{ key: string; path: string }> };
  secret?: { secretName: string; items?: Array<{ key: string; path: string }>; optional?: boolean };
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
}
interface Generator {
  name: string;
  envs?: string[];
  files?: string[];
}
interface Kustomization {
  resources: string[];
  configMapGenerator: Generator[];
  secretGenerator: Generator[];
}

/** KEY=VALUE lines of a kustomize env file (comments and blank lines skipped). */
function readEnvFile(file: string): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const eq = line.indexOf('=');
    entries[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return entries;
}

/** The NATS users of the permissions config and the environment variable holding each one's password. */
function permissionUsers(conf: string): Map<string, string> {
  return new Map([...conf.matchAll(/\{\s*user:\s*([\w-]+),\s*password:\s*\$(\w+)/g)].map((match) => [match[1], match[2]]));
}

function podSpecOf(manifest: Manifest): PodSpec | null {
  const template = (manifest.spec as { template?: { spec?: PodSpec } } | undefined)?.template;
  return template?.spec ?? null;
}

function containerOf(manifests: Manifest[], kind: string, name: string): { container: Container; pod: PodSpec } {
  const manifest = manifests.find((candidate) => candidate.kind === kind && candidate.metadata.name === name);
  expect(manifest, `${kind} ${name}`).toBeDefined();
  const pod = podSpecOf(manifest!)!;
  return { container: pod.containers[0], pod };
}

const envValue = (container: Container, name: string): EnvVar | undefined => container.env?.find((variable) => variable.name === name);

/** The secret file a container's `NATS_PASSWORD_FILE` points into: the Secret name and key of that mounted path. */
function passwordFileSecret(container: Container, pod: PodSpec): { secretName: string; key: string } {
  const file = envValue(container, 'NATS_PASSWORD_FILE')?.value;
  expect(file, `${container.name} NATS_PASSWORD_FILE`).toBeDefined();
  const mount = container.volumeMounts?.find((candidate) => path.posix.dirname(file!) === candidate.mountPath);
  expect(mount, `${container.name}: a volume mounted at ${path.posix.dirname(file!)}`).toBeDefined();
  expect(mount!.readOnly).toBe(true);
  const volume = pod.volumes?.find((candidate) => candidate.name === mount!.name);
  const item = volume?.secret?.items?.find((candidate) => candidate.path === path.posix.basename(file!));
  expect(volume?.secret?.secretName, `${container.name}: the volume ${mount!.name} is a Secret`).toBeDefined();
  expect(item, `${container.name}: the Secret's item ${path.posix.basename(file!)}`).toBeDefined();
  return { secretName: volume!.secret!.secretName, key: item!.key };
}

function run(command: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: REPOSITORY_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('deploy/kubernetes: manifests, NATS users per app, the stream provisioning Job', () => {
  let dir: string;
  let kustomization: Kustomization;
  let manifests: Manifest[];
  /** Generated ConfigMap and Secret name → their keys. */
  const generated = new Map<string, { kind: 'ConfigMap' | 'Secret'; keys: Record<string, string> }>();

  beforeAll(() => {
    // A copy, so make-secrets.sh writes its git-ignored files there and not in the checkout.
    dir = mkdtempSync(path.join(tmpdir(), 'troupe-k8s-'));
    cpSync(SOURCE, dir, { recursive: true, filter: (source) => !/secrets\/[^/]+\.env$/.test(source) });
    const secrets = spawnSync('bash', [path.join(dir, 'secrets', 'make-secrets.sh')], { encoding: 'utf8' });
    expect(secrets.status, secrets.stderr).toBe(0);
    const [document] = parseAllDocuments(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8'));
    kustomization = document.toJS() as Kustomization;
    manifests = [];
    for (const resource of kustomization.resources) {
      for (const doc of parseAllDocuments(readFileSync(path.join(dir, resource), 'utf8'))) {
        expect(doc.errors, resource).toEqual([]);
        manifests.push(doc.toJS() as Manifest);
      }
    }
    for (const generator of kustomization.configMapGenerator) {
      const keys: Record<string, string> = {};
      for (const file of generator.files ?? []) keys[path.basename(file)] = readFileSync(path.join(dir, file), 'utf8');
      for (const file of generator.envs ?? []) Object.assign(keys, readEnvFile(path.join(dir, file)));
      generated.set(generator.name, { kind: 'ConfigMap', keys });
    }
    for (const generator of kustomization.secretGenerator) {
      const keys: Record<string, string> = {};
      for (const file of generator.envs ?? []) {
        expect(existsSync(path.join(dir, file)), `${file} (written by make-secrets.sh)`).toBe(true);
        Object.assign(keys, readEnvFile(path.join(dir, file)));
      }
      generated.set(generator.name, { kind: 'Secret', keys });
    }
  });

  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('parses every resource, and uses only ConfigMaps, Secrets and keys the kustomization generates (or optional ones)', () => {
    expect(manifests.map((manifest) => manifest.kind).filter((kind) => kind === 'Deployment' || kind === 'StatefulSet' || kind === 'Job')).toHaveLength(8);
    const problems: string[] = [];
    const need = (where: string, kind: 'ConfigMap' | 'Secret', name: string, key: string | null, optional = false) => {
      const found = generated.get(name);
      if (found === undefined || found.kind !== kind) {
        if (!optional) problems.push(`${where}: no generated ${kind} ${name}`);
      } else if (key !== null && !(key in found.keys)) problems.push(`${where}: ${kind} ${name} has no key ${key}`);
    };
    for (const manifest of manifests) {
      const pod = podSpecOf(manifest);
      if (pod === null) continue;
      const where = `${manifest.kind} ${manifest.metadata.name}`;
      const claims = ((manifest.spec as { volumeClaimTemplates?: Array<{ metadata: { name: string } }> }).volumeClaimTemplates ?? []).map((claim) => claim.metadata.name);
      const declared = new Set([...(pod.volumes ?? []).map((volume) => volume.name), ...claims]);
      for (const container of [...pod.containers, ...(pod.initContainers ?? [])]) {
        for (const source of container.envFrom ?? []) {
          if (source.configMapRef) need(where, 'ConfigMap', source.configMapRef.name, null, source.configMapRef.optional);
          if (source.secretRef) need(where, 'Secret', source.secretRef.name, null, source.secretRef.optional);
        }
        for (const variable of container.env ?? []) {
          const { secretKeyRef, configMapKeyRef } = variable.valueFrom ?? {};
          if (secretKeyRef) need(`${where} ${variable.name}`, 'Secret', secretKeyRef.name, secretKeyRef.key, secretKeyRef.optional);
          if (configMapKeyRef) need(`${where} ${variable.name}`, 'ConfigMap', configMapKeyRef.name, configMapKeyRef.key, configMapKeyRef.optional);
        }
        for (const mount of container.volumeMounts ?? []) {
          if (!declared.has(mount.name)) problems.push(`${where}: mount of an undeclared volume ${mount.name}`);
        }
      }
      for (const volume of pod.volumes ?? []) {
        if (volume.configMap) for (const item of volume.configMap.items ?? [{ key: '', path: '' }]) need(where, 'ConfigMap', volume.configMap.name, item.key === '' ? null : item.key);
        if (volume.secret) for (const item of volume.secret.items ?? [{ key: '', path: '' }]) need(where, 'Secret', volume.secret.secretName, item.key === '' ? null : item.key, volume.secret.optional);
      }
    }
    expect(problems).toEqual([]);
  });

  it('ships the permissions config unchanged in the NATS ConfigMap, included by cluster.conf', () => {
    const config = generated.get('nats-config')!.keys;
    // One file, not two copies: deploy/nats/ links to the one the ConfigMap is made from (as cluster.conf does).
    expect(realpathSync(PERMISSIONS)).toBe(realpathSync(path.join(REPOSITORY_ROOT, 'deploy', 'kubernetes', 'nats', 'troupe-permissions.conf')));
    expect(config['troupe-permissions.conf']).toBe(readFileSync(PERMISSIONS, 'utf8'));
    expect(Object.keys(config).sort()).toEqual(['cluster.conf', 'troupe-permissions.conf']);
    expect(config['cluster.conf']).toMatch(/^include "troupe-permissions.conf"$/m);
    expect(config['cluster.conf']).not.toMatch(/^\s*authorization\s*\{/m);
  });

  it('gives the NATS servers the password of every user of the permissions config, each from its own Secret', () => {
    const users = permissionUsers(readFileSync(PERMISSIONS, 'utf8'));
    expect([...users.keys()].sort()).toEqual(['admin', 'agents', 'approval-client', 'gateway', 'orchestrator', 'producer', 'supervisor']);
    const { container } = containerOf(manifests, 'StatefulSet', 'nats');
    for (const [user, variable] of users) {
      expect(envValue(container, variable)?.valueFrom?.secretKeyRef, variable).toEqual({ name: `troupe-nats-${user}`, key: 'password' });
      // nats-server reads a $VARIABLE starting with a digit as a number and refuses to start.
      expect(generated.get(`troupe-nats-${user}`)?.keys.password, user).toMatch(/^[A-Za-z][A-Za-z0-9]{31}$/);
    }
    expect(container.envFrom ?? []).toEqual([]);
  });

  it('connects each app as its own user with its password as a mounted file, and lets none provision streams', () => {
    const users = permissionUsers(readFileSync(PERMISSIONS, 'utf8'));
    expect(generated.get('troupe-config')?.keys.TROUPE_PROVISION_STREAMS).toBe('false');
    for (const app of APPS) {
      const { container, pod } = containerOf(manifests, 'Deployment', app);
      expect(envValue(container, 'NATS_USER')?.value, app).toBe(app);
      expect(users.has(app)).toBe(true);
      expect(passwordFileSecret(container, pod)).toEqual({ secretName: `troupe-nats-${app}`, key: 'password' });
      expect(envValue(container, 'NATS_PASSWORD'), app).toBeUndefined();
      expect(envValue(container, 'TROUPE_PROVISION_STREAMS'), app).toBeUndefined();
      // No shared NATS credentials: nothing but its own Secret's file.
      expect((container.envFrom ?? []).filter((source) => source.secretRef?.name.startsWith('troupe-nats') === true), app).toEqual([]);
    }
    const job = containerOf(manifests, 'Job', 'nats-provision-streams');
    expect(envValue(job.container, 'TROUPE_APP')?.value).toBe('provision');
    expect(existsSync(path.join(REPOSITORY_ROOT, 'apps', 'provision', 'src', 'main.ts'))).toBe(true);
    expect(envValue(job.container, 'NATS_USER')?.value).toBe('admin');
    expect(passwordFileSecret(job.container, job.pod)).toEqual({ secretName: 'troupe-nats-admin', key: 'password' });
  });

  describe('the StatefulSet nats as three local servers with its config and environment', () => {
    const servers: ChildProcess[] = [];
    const clients: NatsConnection[] = [];
    let urls: string[];
    let logs: string[];
    /** The content of each Secret's `password`, as a file like the one a pod mounts. */
    const passwordFile = (secretName: string): string => {
      const file = path.join(dir, 'mounted', secretName, 'password');
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, generated.get(secretName)!.keys.password, { mode: 0o600 });
      return file;
    };

    beforeAll(async () => {
      const { container } = containerOf(manifests, 'StatefulSet', 'nats');
      const ports = await Promise.all(Array.from({ length: 9 }, () => freePort()));
      const node = (index: number) => ({ client: ports[index * 3], cluster: ports[index * 3 + 1], monitor: ports[index * 3 + 2] });
      urls = [0, 1, 2].map((index) => `nats://127.0.0.1:${node(index).client}`);
      logs = ['', '', ''];
      for (const index of [0, 1, 2]) {
        // The manifest's environment, with what differs on one machine: ports, routes, store dir.
        const local: Record<string, string> = {
          NATS_SERVER_NAME: `nats-${index}`,
          NATS_CLIENT_PORT: String(node(index).client),
          NATS_CLUSTER_PORT: String(node(index).cluster),
          NATS_MONITOR_PORT: String(node(index).monitor),
          NATS_STORE_DIR: path.join(dir, 'store', `nats-${index}`),
          NATS_ROUTE_0: `nats://127.0.0.1:${node(0).cluster}`,
          NATS_ROUTE_1: `nats://127.0.0.1:${node(1).cluster}`,
          NATS_ROUTE_2: `nats://127.0.0.1:${node(2).cluster}`,
        };
        const env: Record<string, string> = {};
        for (const variable of container.env ?? []) {
          const secret = variable.valueFrom?.secretKeyRef;
          if (secret !== undefined) env[variable.name] = generated.get(secret.name)!.keys[secret.key];
          else if (variable.name in local) env[variable.name] = local[variable.name];
          else throw new Error(`${variable.name}: not mapped for a local run`);
        }
        const child = spawn(process.env.NATS_SERVER_BIN ?? 'nats-server', ['--config', path.join(dir, 'nats', 'cluster.conf')], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
        child.stderr?.on('data', (chunk: Buffer) => (logs[index] = (logs[index] + chunk.toString()).slice(-65_536)));
        servers.push(child);
      }
      await Promise.all([0, 1, 2].map((index) => waitForPort(node(index).client)));
    });

    afterAll(async () => {
      await Promise.all(clients.map((client) => client.close()));
      await Promise.all(
        servers.map((child) => {
          if (child.exitCode !== null) return undefined;
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGTERM');
          return exited;
        }),
      );
    });

    it("provisions the streams R3 with the Job's entry point as admin, and refuses it as an app's user", async () => {
      const job = containerOf(manifests, 'Job', 'nats-provision-streams').container;
      const config = generated.get('troupe-config')!.keys;
      const provision = (user: string, secretName: string) =>
        run(process.execPath, ['-r', path.join(REPOSITORY_ROOT, 'tools', 'register.cjs'), path.join(REPOSITORY_ROOT, 'apps', 'provision', 'src', 'main.ts')], {
          NATS_URL: urls.join(','),
          NATS_USER: user,
          NATS_PASSWORD_FILE: passwordFile(secretName),
          TROUPE_STREAM_REPLICAS: config.TROUPE_STREAM_REPLICAS,
        });
      // Like the Job's retries while the cluster elects its JetStream leader.
      let result = await provision(envValue(job, 'NATS_USER')!.value!, 'troupe-nats-admin');
      for (let attempt = 1; attempt < 20 && result.code !== 0; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        result = await provision('admin', 'troupe-nats-admin');
      }
      expect(result.code, `${result.output}\n${logs.join('\n')}`).toBe(0);
      expect(result.output).toContain('streams ready with 3 replicas');
      const admin = await connect({ servers: urls, user: 'admin', pass: generated.get('troupe-nats-admin')!.keys.password });
      clients.push(admin);
      const jsm = await admin.jetstreamManager();
      for (const stream of Object.values(STREAMS)) expect((await jsm.streams.info(stream.name)).config.num_replicas, stream.name).toBe(3);
      const refused = await provision('gateway', 'troupe-nats-gateway');
      expect(refused.code).toBe(1);
      expect(refused.output).toMatch(/permission|authorization/i);
    });

    it("takes each app's user with the password of its mounted Secret, and refuses a wrong password", async () => {
      for (const app of APPS) {
        const { container, pod } = containerOf(manifests, 'Deployment', app);
        const { secretName, key } = passwordFileSecret(container, pod);
        const connection = await connect({ servers: urls, user: envValue(container, 'NATS_USER')!.value!, pass: generated.get(secretName)!.keys[key] });
        clients.push(connection);
        expect(connection.info?.server_name, app).toMatch(/^nats-[012]$/);
      }
      await expect(connect({ servers: urls[0], user: 'orchestrator', pass: generated.get('troupe-nats-gateway')!.keys.password, reconnect: false })).rejects.toThrow(/authorization/i);
    });
  });
});
