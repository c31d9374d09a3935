import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { connectToNats, natsSettingsFromEnvironment, provisionStreams, runApp } from '@troupe/bus';
import { BaseEnvironment, STREAMS, parseEnvironment } from '@troupe/contracts';

/**
 * One-shot: creates or updates every Troupe stream (`STREAMS`, with `TROUPE_STREAM_REPLICAS` replicas)
 * and exits 0; exits 1 when NATS refuses (e.g. a user without the JetStream API rights). Run it as the
 * NATS `admin` user of deploy/nats/troupe-permissions.conf before the apps, which then run with
 * `TROUPE_PROVISION_STREAMS=false` (the Kubernetes Job `nats-provision-streams`). The KV buckets are
 * not made here: the app that owns each creates it on first open.
 */
async function provision(): Promise<void> {
  const env = parseEnvironment(BaseEnvironment);
  const nats = await connectToNats(natsSettingsFromEnvironment(env, 'troupe-provision'));
  try {
    await provisionStreams(await nats.jetstreamManager(), undefined, { replicas: env.TROUPE_STREAM_REPLICAS });
  } finally {
    await nats.drain();
  }
  new Logger('provision').log(`streams ready with ${env.TROUPE_STREAM_REPLICAS} replicas: ${Object.values(STREAMS).map((stream) => stream.name).join(', ')}`);
}

runApp('provision', provision);
