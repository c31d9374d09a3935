/**
 * The LangGraph.js peer: the ReAct workload of bench/react-workload.ts as a `StateGraph` (node `agent`
 * calls the mock model, node `tools` the mock tool, a conditional edge loops until the answer),
 * compiled with `MemorySaver` or `PostgresSaver` (@langchain/langgraph-checkpoint-postgres) and run in a
 * process of its own. Prints one JSON line, a {@link ReactRunResult}, on stdout.
 *
 * Its packages are dev dependencies of bench/ only (bench/package.json), so this folder is outside the
 * root tsconfig; check it with `npx tsc -p bench/peer --noEmit`.
 *
 * Usage: node -r ./tools/register.cjs bench/peer/langgraph-child.ts '<LangGraphChildOptions as JSON>'
 */
import { Annotation, END, MemorySaver, START, StateGraph, type BaseCheckpointSaver } from '@langchain/langgraph';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { cpuSince, nowMs, perSecond, pipelined, sampleCpu } from '../measure';
import { mockModel, mockTool, nodeStepsPerWorkflow, reactQuestion } from '../react-workload';
import type { ReactRunResult } from '../troupe-react';

export interface LangGraphChildOptions {
  checkpointer: 'memory' | 'postgres';
  /** LangGraph's `durability`: `async` (its default: a checkpoint is written while the next node runs) or `sync`. */
  durability: 'async' | 'sync';
  workflows: number;
  toolRounds: number;
  /** `invoke`s in flight at once. */
  concurrency: number;
  /** PostgreSQL URL of the checkpoint database (created if absent). */
  postgresUrl: string;
  /** Connections in the checkpointer's pool. */
  poolSize: number;
  runId: string;
}

const ReactState = Annotation.Root({
  question: Annotation<string>,
  toolRounds: Annotation<number>,
  observations: Annotation<string[]>({ reducer: (left, right) => left.concat(right), default: () => [] }),
  query: Annotation<string | null>,
  answer: Annotation<string | null>,
});

let calls = 0;

/** CPU time (ms) of every process named `postgres` (the server and its backends), from /proc; null elsewhere. */
function postgresCpuMs(): number | null {
  try {
    let total = 0;
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        if (!stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).startsWith('postgres')) continue;
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        total += ((Number(fields[11]) + Number(fields[12])) * 1_000) / 100;
      } catch {
        // The process ended between the listing and the read.
      }
    }
    return total;
  } catch {
    return null;
  }
}

function buildGraph() {
  return new StateGraph(ReactState)
    .addNode('agent', (state) => {
      calls += 1;
      const turn = mockModel({ question: state.question, observations: state.observations, toolRounds: state.toolRounds });
      return turn.kind === 'tool' ? { query: turn.query } : { query: null, answer: turn.text };
    })
    .addNode('tools', (state) => {
      calls += 1;
      return { observations: [mockTool(state.query ?? '')], query: null };
    })
    .addEdge(START, 'agent')
    .addConditionalEdges('agent', (state) => (state.query === null ? END : 'tools'), ['tools', END])
    .addEdge('tools', 'agent');
}

/** Creates the checkpoint database when it does not exist (connecting to `postgres`, else `test`, on the same server). */
async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = target.pathname.slice(1);
  let lastError: unknown = null;
  for (const admin of ['postgres', 'test']) {
    const adminUrl = new URL(url);
    adminUrl.pathname = `/${admin}`;
    const client = new pg.Client({ connectionString: adminUrl.toString() });
    try {
      await client.connect();
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (found.rowCount === 0) await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      return;
    } catch (error) {
      lastError = error;
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  throw lastError;
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as LangGraphChildOptions;
  let checkpointer: BaseCheckpointSaver;
  let pool: pg.Pool | null = null;
  if (options.checkpointer === 'postgres') {
    await ensureDatabase(options.postgresUrl);
    pool = new pg.Pool({ connectionString: options.postgresUrl, max: options.poolSize });
    const saver = new PostgresSaver(pool);
    await saver.setup();
    // Each run starts with empty tables, so runs compare alike.
    await pool.query('TRUNCATE checkpoints, checkpoint_blobs, checkpoint_writes');
    checkpointer = saver;
  } else {
    checkpointer = new MemorySaver();
  }
  const graph = buildGraph().compile({ checkpointer });
  const run = (i: number) =>
    graph.invoke(
      { question: reactQuestion(i), toolRounds: options.toolRounds },
      { configurable: { thread_id: `${options.runId}-${i}` }, durability: options.durability },
    );
  // Warm-up (JIT, pool connections), not timed: as many workflows as run at once.
  const warmUp = Math.min(options.concurrency, 50);
  await pipelined(warmUp, options.concurrency, async (i) => {
    await run(-1 - i);
  });
  calls = 0;

  const cpu = sampleCpu();
  const postgresAtStart = pool === null ? null : postgresCpuMs();
  const started = nowMs();
  let answered = 0;
  await pipelined(options.workflows, options.concurrency, async (i) => {
    const state = await run(i);
    if (typeof state.answer === 'string' && state.observations.length === options.toolRounds) answered += 1;
  });
  const elapsedMs = nowMs() - started;
  const spent = cpuSince(cpu);
  const postgresAtEnd = postgresAtStart === null ? null : postgresCpuMs();
  const postgresMs = postgresAtStart === null || postgresAtEnd === null ? null : postgresAtEnd - postgresAtStart;
  let checkpoints: number | null = null;
  if (pool !== null) {
    const counted = await pool.query<{ n: string }>('SELECT count(*) AS n FROM checkpoints WHERE thread_id LIKE $1', [`${options.runId}-%`]);
    checkpoints = Number(counted.rows[0].n);
    // Only the timed workflows (the warm-up ones have negative numbers).
    const warm = await pool.query<{ n: string }>("SELECT count(*) AS n FROM checkpoints WHERE thread_id LIKE $1", [`${options.runId}--%`]);
    checkpoints -= Number(warm.rows[0].n);
    await pool.end();
  }
  const expected = options.workflows * nodeStepsPerWorkflow(options.toolRounds);
  if (answered !== options.workflows || calls !== expected) {
    throw new Error(`LangGraph run: ${answered} of ${options.workflows} workflows answered, ${calls} of ${expected} node steps`);
  }
  const result: ReactRunResult = {
    side: `LangGraph.js ${options.checkpointer === 'postgres' ? 'PostgresSaver' : 'MemorySaver'} (durability ${options.durability})`,
    workflows: options.workflows,
    toolRounds: options.toolRounds,
    concurrency: options.concurrency,
    nodeSteps: calls,
    elapsedMs,
    nodeStepsPerSec: perSecond(calls, elapsedMs),
    persistedStepsPerSec: checkpoints === null ? null : perSecond(checkpoints, elapsedMs),
    clientCpuUsPerNodeStep: (spent.selfMs * 1_000) / calls,
    serverCpuUsPerNodeStep: postgresMs === null ? null : (postgresMs * 1_000) / calls,
    heapUsedBytes: process.memoryUsage().heapUsed,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

void main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
