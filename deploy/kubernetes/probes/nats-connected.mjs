// Exec probe for the Troupe microservices (orchestrator, supervisor, agents), which serve no HTTP:
// exits 0 when this pod's network namespace holds an ESTABLISHED TCP connection to the port of a
// server in NATS_URL, i.e. the app process has booted past its configuration and is connected to
// NATS; exits 1 otherwise. It opens no connection of its own and needs no credentials.
//
// What it does not prove: that the app's consumer loops are still pulling. Mounted from the
// ConfigMap `troupe-probes` (deploy/kubernetes/kustomization.yaml) and run as
// `node /etc/troupe/probes/nats-connected.mjs`. Reads /proc/net/tcp and /proc/net/tcp6 (Linux).
import { readFileSync } from 'node:fs';

const ESTABLISHED = '01';

/** Ports of the servers in a NATS_URL such as `nats://user:pass@nats-0.nats:4222,nats://nats-1.nats:4222`. */
function natsPorts(natsUrl) {
  const ports = new Set();
  for (const entry of natsUrl.split(',')) {
    const hostPort = entry.trim().replace(/^[a-z]+:\/\//i, '').replace(/^.*@/, '').replace(/\/.*$/, '');
    const match = /:(\d+)$/.exec(hostPort);
    ports.add(match === null ? 4222 : Number(match[1]));
  }
  return ports;
}

/** Remote ports of the ESTABLISHED connections listed in /proc/net/tcp{,6}. */
function establishedRemotePorts() {
  const ports = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // no IPv6 in this pod
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 4 || fields[3] !== ESTABLISHED) continue;
      ports.push(parseInt(fields[2].split(':')[1], 16));
    }
  }
  return ports;
}

const wanted = natsPorts(process.env.NATS_URL ?? 'nats://127.0.0.1:4222');
if (establishedRemotePorts().some((port) => wanted.has(port))) process.exit(0);
console.error(`no established connection to NATS (ports ${[...wanted].join(', ')})`);
process.exit(1);
