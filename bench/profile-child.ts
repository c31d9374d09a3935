/**
 * One Troupe step run in a process of its own, for `node --cpu-prof` (bench/profile.ts spawns it
 * against the bench's nats-server). Prints the {@link TroupeStepResult} as one JSON line on stdout.
 *
 * Usage: node --cpu-prof -r ./tools/register.cjs bench/profile-child.ts <natsUrl> '<TroupeStepOptions as JSON>'
 */
import { connectToNats } from '@troupe/bus';
import { runTroupeSteps, type TroupeStepOptions } from './troupe-steps';

async function main(): Promise<void> {
  const [url, optionsJson] = process.argv.slice(2);
  const nats = await connectToNats({ servers: url, name: 'troupe-bench-profile' });
  try {
    const result = await runTroupeSteps(nats, JSON.parse(optionsJson) as TroupeStepOptions);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await nats.close();
  }
}

void main().then(
  // lru-cache's TTL timers would keep the process alive; exit normally so the profile is written.
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
