import { parseArgs } from 'node:util';
import { z } from 'zod';

export const USAGE = `npm run bench -- [--quick] [options]

Durable actor steps/s against the raw JetStream floor on a private nats-server, memory per live
actor, cold-start rehydration, and where a step spends its time. About 3 min on 2 cores; --quick
about 30 s (no what-ifs).

  --quick                  smaller sizes (defaults in brackets: full / quick)
  --events N               bump events measured per Troupe run                  [20000 / 4000]
  --workflows N            workflows the events are spread over                 [1000 / 400]
  --concurrency N          steps in flight: JetStreamServer concurrency and (d) [128]
  --rounds N               floor (d) + Troupe pairs; the ratio is their median  [2 / 1]
  --raw-ops N              operations per pipelined floor figure               [20000 / 4000]
  --serial-ops N           operations per 1-in-flight floor figure             [1000 / 300]
  --in-flight N            in flight for pipelined publish / consume / KV CAS  [256]
  --latency-samples N      single events timed at 1 in flight                  [500 / 200]
  --what-if-events N       events per what-if run; 0 skips the what-ifs        [5000 / 0]
  --what-if-rounds N       rounds over all what-if variants (medians reported)  [1]
  --actors N               cached actors for memory per live actor             [100000 / 10000]
  --single-consumer        feed Troupe through the one 'orchestrator' consumer instead of one
                           consumer per partition (the orchestrator's way since partition leases)
  --profile                also run one Troupe step run under node --cpu-prof and summarise it
  --keep-profile           keep the .cpuprofile in bench/results/ (implies --profile)
  --out DIR                where the JSON result goes                          [bench/results]
  --help`;

const Count = z.coerce.number().int().positive();

/** Every size and switch of one bench run. */
export const BenchOptions = z.object({
  quick: z.boolean(),
  events: Count,
  workflows: Count,
  concurrency: Count,
  rounds: Count,
  rawOps: Count,
  serialOps: Count,
  inFlight: Count,
  latencySamples: z.coerce.number().int().nonnegative(),
  whatIfEvents: z.coerce.number().int().nonnegative(),
  whatIfRounds: Count,
  actors: Count,
  singleConsumer: z.boolean(),
  profile: z.boolean(),
  keepProfile: z.boolean(),
  out: z.string().min(1),
});
export type BenchOptions = z.infer<typeof BenchOptions>;

/**
 * Parses the command line (after `npm run bench --`).
 *
 * @returns null when `--help` was asked for.
 * @throws ZodError naming every bad option; TypeError from parseArgs for an unknown one.
 */
export function parseBenchOptions(argv: string[]): BenchOptions | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      events: { type: 'string' },
      workflows: { type: 'string' },
      concurrency: { type: 'string' },
      rounds: { type: 'string' },
      'raw-ops': { type: 'string' },
      'serial-ops': { type: 'string' },
      'in-flight': { type: 'string' },
      'latency-samples': { type: 'string' },
      'what-if-events': { type: 'string' },
      'what-if-rounds': { type: 'string' },
      actors: { type: 'string' },
      'single-consumer': { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      'keep-profile': { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return null;
  const quick = values.quick === true;
  const pick = (value: string | undefined, full: number, small: number): string => value ?? String(quick ? small : full);
  return BenchOptions.parse({
    quick,
    events: pick(values.events, 20_000, 4_000),
    workflows: pick(values.workflows, 1_000, 400),
    concurrency: pick(values.concurrency, 128, 128),
    rounds: pick(values.rounds, 2, 1),
    rawOps: pick(values['raw-ops'], 20_000, 4_000),
    serialOps: pick(values['serial-ops'], 1_000, 300),
    inFlight: pick(values['in-flight'], 256, 256),
    latencySamples: pick(values['latency-samples'], 500, 200),
    whatIfEvents: pick(values['what-if-events'], 0, 0),
    whatIfRounds: pick(values['what-if-rounds'], 1, 1),
    actors: pick(values.actors, 100_000, 10_000),
    singleConsumer: values['single-consumer'] === true,
    profile: values.profile === true || values['keep-profile'] === true,
    keepProfile: values['keep-profile'] === true,
    out: values.out ?? 'bench/results',
  });
}
