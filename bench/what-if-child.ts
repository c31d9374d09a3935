/**
 * One Troupe step run with one what-if applied (bench/what-if.ts), in a process of its own so the
 * run-time patches touch nothing else. Prints the {@link TroupeStepResult} as one JSON line on stdout.
 *
 * Usage: node -r ./tools/register.cjs bench/what-if-child.ts <natsUrl> '<whatIf>' '<TroupeStepOptions as JSON>'
 */
import { connectToNats } from '@troupe/bus';
import { runTroupeSteps, type TroupeStepOptions } from './troupe-steps';
import { WHAT_IFS, applyWhatIf, type WhatIf } from './what-if';

async function main(): Promise<void> {
  const [url, whatIf, optionsJson] = process.argv.slice(2);
  if (!(WHAT_IFS as readonly string[]).includes(whatIf)) throw new Error(`unknown what-if ${whatIf}`);
  applyWhatIf(whatIf as WhatIf);
  const options = JSON.parse(optionsJson) as TroupeStepOptions;
  const nats = await connectToNats({ servers: url, name: 'troupe-bench-what-if' });
  try {
    // Warm-up, so each variant is timed with the JIT done.
    await runTroupeSteps(nats, { ...options, events: Math.min(options.events, 2_000), runId: `${options.runId}-warm`, latencySamples: 0 });
    process.stdout.write(`${JSON.stringify(await runTroupeSteps(nats, options))}\n`);
  } finally {
    await nats.close();
  }
}

void main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
