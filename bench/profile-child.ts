/**
 * One Troupe step run in a process of its own, profiled with the V8 CPU profiler through
 * `node:inspector` (bench/profile.ts spawns it against the bench's nats-server). The profiler starts
 * after start-up (module loading and compiling, Nest boot) and a warm-up run, so the profile holds the
 * steps only. Writes the profile to `<profileFile>` and prints the {@link TroupeStepResult} as one JSON
 * line on stdout.
 *
 * Usage: node -r ./tools/register.cjs bench/profile-child.ts <natsUrl> '<TroupeStepOptions as JSON>' <profileFile>
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { connectToNats } from '@troupe/bus';
import { runTroupeSteps, type TroupeStepOptions } from './troupe-steps';

function post<T>(session: Session, method: string): Promise<T> {
  return new Promise((resolve, reject) => session.post(method, (error, result) => (error === null ? resolve(result as T) : reject(error))));
}

async function main(): Promise<void> {
  const [url, optionsJson, profileFile] = process.argv.slice(2);
  const options = JSON.parse(optionsJson) as TroupeStepOptions;
  const nats = await connectToNats({ servers: url, name: 'troupe-bench-profile' });
  try {
    // Warm-up: the JIT compiles the hot path before the profiler looks.
    await runTroupeSteps(nats, { ...options, events: Math.min(options.events, 2_000), runId: `${options.runId}-warm`, latencySamples: 0 });
    const session = new Session();
    session.connect();
    await post(session, 'Profiler.enable');
    await post(session, 'Profiler.start');
    const result = await runTroupeSteps(nats, options);
    const { profile } = await post<{ profile: unknown }>(session, 'Profiler.stop');
    session.disconnect();
    writeFileSync(profileFile, JSON.stringify(profile));
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await nats.close();
  }
}

void main().then(
  // lru-cache's TTL timers would keep the process alive.
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
