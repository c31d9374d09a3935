import { parseArgs } from 'node:util';
import { z } from 'zod';
import { REACT_TOOL_ROUNDS } from './react-workload';

export const USAGE = `npm run bench -- [--quick] [options]

Troupe side by side with the raw JetStream floor and LangGraph.js, in one run on a private
nats-server (and the local PostgreSQL for LangGraph's checkpointer): durable steps/s, latency, an
approval's latency, passivation, the scaling curves (workflows, replicas), memory per live actor,
cold start, and the ratios against the targets. About 4–5 min on 2 cores; --quick about 1–1.5 min.

  --quick                  smaller sizes (defaults in brackets: full / quick)
  --events N               bump events measured per Troupe step run             [20000 / 4000]
  --workflows N            workflows the events are spread over                 [1000 / 400]
  --concurrency N          steps in flight: JetStreamServer concurrency and (d) [128]
  --rounds N               floor (d) + Troupe pairs; the ratio is their median  [2 / 1]
  --raw-ops N              operations per pipelined floor figure               [20000 / 4000]
  --serial-ops N           operations per 1-in-flight floor figure             [1000 / 300]
  --in-flight N            in flight for pipelined publish / consume / KV CAS  [256]
  --latency-samples N      single events timed at 1 in flight                  [1000 / 300]
  --approval-samples N     approval decisions timed at 1 in flight             [300 / 100]
  --react-workflows N      ReAct workflows per side (Troupe, LangGraph.js)     [600 / 150]
  --tool-rounds N          reason/act rounds of each ReAct workflow            [3]
  --postgres-url URL       LangGraph's checkpoint database (created if absent)
                           [$TROUPE_BENCH_POSTGRES_URL or postgresql://postgres@127.0.0.1:5432/troupe_bench]
  --pool-size N            connections of LangGraph's PostgreSQL pool           [16]
  --skip-peer              no LangGraph.js runs (no install either)
  --passivation-workflows N  workflows of the passivation run                   [4000 / 1000]
  --passivation-cache N    actor cache of the passivation run (< workflows)     [400 / 100]
  --passivation-events N   bumps of the passivation run                         [12000 / 3000]
  --scale-workflows LIST   concurrent workflows of the scaling curve            [1,10,100,1000,10000 / 1,10,100,1000]
  --replicas LIST          orchestrator replicas (processes) of the curve       [1,2,3 / 1,3]
  --replica-events N       bumps per replica point (over --workflows)           [12000 / 3000]
  --what-if-events N       events per what-if run (the first profile's findings patched in a
                           child process: bench/what-if.ts; both are now made in libs/, so
                           they patch only the bench's producer); 0 skips them   [0 / 0]
  --what-if-rounds N       rounds over all what-if variants (medians reported)  [1]
  --actors N               cached actors for memory per live actor             [100000 / 100000]
  --single-consumer        feed Troupe through the one 'orchestrator' consumer instead of one
                           consumer per partition (the orchestrator's way since partition leases)
  --profile                also profile one Troupe step run (V8 CPU profiler, after a warm-up) and summarise it
  --keep-profile           keep the .cpuprofile in bench/results/ (implies --profile)
  --out DIR                where the JSON result goes                          [bench/results]
  --help`;

const Count = z.coerce.number().int().positive();
const CountList = z
  .string()
  .transform((text) => text.split(',').map((part) => Number(part.trim())))
  .pipe(z.array(z.number().int().positive()).min(1));

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
  approvalSamples: Count,
  reactWorkflows: Count,
  toolRounds: Count,
  postgresUrl: z.string().min(1),
  poolSize: Count,
  skipPeer: z.boolean(),
  passivationWorkflows: Count,
  passivationCache: Count,
  passivationEvents: Count,
  scaleWorkflows: CountList,
  replicas: CountList,
  replicaEvents: Count,
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
      'approval-samples': { type: 'string' },
      'react-workflows': { type: 'string' },
      'tool-rounds': { type: 'string' },
      'postgres-url': { type: 'string' },
      'pool-size': { type: 'string' },
      'skip-peer': { type: 'boolean', default: false },
      'passivation-workflows': { type: 'string' },
      'passivation-cache': { type: 'string' },
      'passivation-events': { type: 'string' },
      'scale-workflows': { type: 'string' },
      replicas: { type: 'string' },
      'replica-events': { type: 'string' },
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
  const pick = (value: string | undefined, full: number | string, small: number | string): string => value ?? String(quick ? small : full);
  return BenchOptions.parse({
    quick,
    events: pick(values.events, 20_000, 4_000),
    workflows: pick(values.workflows, 1_000, 400),
    concurrency: pick(values.concurrency, 128, 128),
    rounds: pick(values.rounds, 2, 1),
    rawOps: pick(values['raw-ops'], 20_000, 4_000),
    serialOps: pick(values['serial-ops'], 1_000, 300),
    inFlight: pick(values['in-flight'], 256, 256),
    latencySamples: pick(values['latency-samples'], 1_000, 300),
    approvalSamples: pick(values['approval-samples'], 300, 100),
    reactWorkflows: pick(values['react-workflows'], 600, 150),
    toolRounds: pick(values['tool-rounds'], REACT_TOOL_ROUNDS, REACT_TOOL_ROUNDS),
    postgresUrl: values['postgres-url'] ?? process.env.TROUPE_BENCH_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/troupe_bench',
    poolSize: pick(values['pool-size'], 16, 16),
    skipPeer: values['skip-peer'] === true,
    passivationWorkflows: pick(values['passivation-workflows'], 4_000, 1_000),
    passivationCache: pick(values['passivation-cache'], 400, 100),
    passivationEvents: pick(values['passivation-events'], 12_000, 3_000),
    scaleWorkflows: pick(values['scale-workflows'], '1,10,100,1000,10000', '1,10,100,1000'),
    replicas: pick(values.replicas, '1,2,3', '1,3'),
    replicaEvents: pick(values['replica-events'], 12_000, 3_000),
    whatIfEvents: pick(values['what-if-events'], 0, 0),
    whatIfRounds: pick(values['what-if-rounds'], 1, 1),
    actors: pick(values.actors, 100_000, 100_000),
    singleConsumer: values['single-consumer'] === true,
    profile: values.profile === true || values['keep-profile'] === true,
    keepProfile: values['keep-profile'] === true,
    out: values.out ?? 'bench/results',
  });
}
