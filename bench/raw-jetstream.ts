import type { JetStreamClient, JetStreamManager, JsMsg, KV, NatsConnection } from 'nats';
import { provisionConsumer, provisionStreams } from '@troupe/bus';
import { KeyedChains, cpuSince, middleWindow, nowMs, perSecond, pipelined, sampleCpu, summarise, windowRate, type CpuSample, type LatencySummary } from './measure';
import type { StepSizes } from './step-sizes';
import {
  BENCH_BUCKET,
  BENCH_STREAMS,
  benchChangesSubject,
  benchInputConsumer,
  benchInputSubject,
  benchJournalSubject,
  benchOutboxSubject,
  benchPublishSubject,
} from './topology';

/** Sizes of the raw JetStream floor. */
export interface RawOptions {
  /** Operations per pipelined measurement. */
  ops: number;
  /** Operations per 1-in-flight measurement. */
  serialOps: number;
  /** In flight for (a) and (c) pipelined, and the pull buffer and in-flight limit of (b). */
  inFlight: number;
  /** In flight for the step floors (d), (d'): the same as the Troupe step bench, for a fair ratio. */
  stepConcurrency: number;
  /** Distinct keys (the Troupe bench's workflow count). */
  keys: number;
  /** Body sizes taken from a real bench-workflow step. */
  sizes: StepSizes;
  /** nats-server's pid, to read its CPU time from /proc. */
  serverPid?: number;
}

/** CPU time per operation in µs: this process (all threads) and nats-server (null when unreadable). */
export interface CpuPerOp {
  clientUsPerOp: number;
  serverUsPerOp: number | null;
}

/** One measured rate. */
export interface RateResult {
  ops: number;
  elapsedMs: number;
  /** For consumed figures (b), (d), (d'): the steady state, from 10 % to 90 % of the completions; else all. */
  opsPerSec: number;
  /** For consumed figures: first message received to the last handled, tail included. */
  opsPerSecToLast?: number;
  /** Per-operation latency, for 1-in-flight figures. */
  latency?: LatencySummary;
  cpu?: CpuPerOp;
}

/** How a step floor acks its inbound message. */
export type AckMode = 'ack' | 'ackAck';

/** Figures (a)–(c). */
export interface RawFloorResults {
  publishSerial: RateResult;
  publishPipelined: RateResult;
  consumeAck: RateResult;
  consumeAckAck: RateResult;
  kvCasSerial: RateResult;
  kvCasPipelined: RateResult;
}

const bytes = (size: number): Uint8Array => new TextEncoder().encode('x'.repeat(size));
const keyOf = (index: number): string => `k${index}`;
const keyOfSubject = (subject: string): string => subject.slice(subject.lastIndexOf('.') + 1);

/**
 * The raw JetStream floor on one server: what nats-server and the nats.js client do with no Troupe
 * code in the way, on `bench.` streams and a KV bucket of their own (see topology.ts). Bodies have the
 * sizes of a real bench-workflow step, so the floor and Troupe move the same bytes.
 */
export class RawJetStream {
  private readonly chains = new KeyedChains();
  private readonly revisions = new Map<string, number>();
  private steps = 0;

  private constructor(
    private readonly nats: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
    private readonly kv: KV,
    private readonly options: RawOptions,
  ) {}

  /** Provisions the `bench.` streams and KV bucket and creates one key per workflow. */
  static async open(nats: NatsConnection, options: RawOptions): Promise<RawJetStream> {
    const jsm = await nats.jetstreamManager();
    await provisionStreams(jsm, Object.values(BENCH_STREAMS));
    const js = nats.jetstream();
    const kv = await js.views.kv(BENCH_BUCKET, { history: 1 });
    const raw = new RawJetStream(nats, jsm, js, kv, options);
    const value = bytes(options.sizes.persistBytes);
    await pipelined(options.keys, options.inFlight, async (i) => {
      raw.revisions.set(keyOf(i), await kv.put(keyOf(i), value));
    });
    return raw;
  }

  /** (a) publish with ack, (b) pull consume with ack, (c) KV compare-and-set. */
  async floor(log: (line: string) => void): Promise<RawFloorResults> {
    const { ops, serialOps, inFlight, keys, sizes } = this.options;
    const event = bytes(sizes.eventBytes);
    log('(a) publish with ack');
    const publishSerial = await timedSerial(serialOps, async (i) => {
      await this.js.publish(benchPublishSubject(keyOf(i % keys)), event);
    });
    const publishPipelined = await timed(
      ops,
      () =>
        pipelined(ops, inFlight, async (i) => {
          await this.js.publish(benchPublishSubject(keyOf(i % keys)), event);
        }),
      this.options.serverPid,
    );

    log('(b) pull consume + ack');
    await this.prefillInput(ops);
    const consumeAck = await this.consumeAll('bench-ack', ops, inFlight, async (message) => {
      message.ack();
    });
    const consumeAckAck = await this.consumeAll('bench-ackack', ops, inFlight, async (message) => {
      await message.ackAck();
    });

    log('(c) KV compare-and-set');
    const value = bytes(sizes.persistBytes);
    const kvCasSerial = await timedSerial(serialOps, (i) => this.cas(keyOf(i % keys), value));
    const kvCasPipelined = await timed(ops, () => pipelined(ops, inFlight, (i) => this.cas(keyOf(i % keys), value)), this.options.serverPid);
    await this.purge();
    return { publishSerial, publishPipelined, consumeAck, consumeAckAck, kvCasSerial, kvCasPipelined };
  }

  /**
   * (d) The combined floor of one durable step done by hand: consume one message, KV compare-and-set
   * of the persisted-record size, publish one outbox message with a msgID, ack; one key at a time,
   * `stepConcurrency` steps in flight across keys, pulled as `JetStreamServer` pulls. `ack` is how the
   * inbound message is acked: `ack()` (fire-and-forget, what `JetStreamServer` does, so the ratio's
   * denominator) or `ackAck()` (waits for the server's confirmation).
   */
  async stepFloor(ack: AckMode): Promise<RateResult> {
    const { ops, stepConcurrency, sizes } = this.options;
    const value = bytes(sizes.persistBytes);
    const outbox = bytes(sizes.outboxBytes[0] ?? 400);
    await this.prefillInput(ops);
    const run = ++this.steps;
    const result = await this.consumeAll(`bench-step-${run}`, ops, stepConcurrency, (message) => {
      const key = keyOfSubject(message.subject);
      return this.chains.run(key, async () => {
        this.revisions.set(key, await this.kv.update(key, value, this.revisions.get(key) ?? 0));
        await this.js.publish(benchOutboxSubject(key), outbox, { msgID: `d:${run}:${message.seq}` });
        if (ack === 'ackAck') await message.ackAck();
        else message.ack();
      });
    });
    await this.purge();
    return result;
  }

  /**
   * (d') The I/O of Troupe's step, by hand and in the runtime's order: CAS of the record (snapshot +
   * outbox + pending journal entry), then the journal publish and the effect + change-feed publishes
   * all in parallel (each with a msgID), then `ack()`.
   */
  async troupeIoFloor(): Promise<RateResult> {
    const { ops, stepConcurrency, sizes } = this.options;
    const value = bytes(sizes.persistBytes);
    const journal = bytes(sizes.journalBytes);
    const outbox = bytes(sizes.outboxBytes[0] ?? 400);
    const changed = bytes(sizes.outboxBytes[1] ?? 400);
    await this.prefillInput(ops);
    const run = ++this.steps;
    const result = await this.consumeAll(`bench-troupe-io-${run}`, ops, stepConcurrency, (message) => {
      const key = keyOfSubject(message.subject);
      return this.chains.run(key, async () => {
        this.revisions.set(key, await this.kv.update(key, value, this.revisions.get(key) ?? 0));
        await Promise.all([
          this.js.publish(benchJournalSubject(key), journal, { msgID: `j:${run}:${message.seq}` }),
          this.js.publish(benchOutboxSubject(key), outbox, { msgID: `e:${run}:${message.seq}` }),
          this.js.publish(benchChangesSubject(key), changed, { msgID: `c:${run}:${message.seq}` }),
        ]);
        message.ack();
      });
    });
    await this.purge();
    return result;
  }

  private cas(key: string, body: Uint8Array): Promise<void> {
    return this.chains.run(key, async () => {
      this.revisions.set(key, await this.kv.update(key, body, this.revisions.get(key) ?? 0));
    });
  }

  /** Empties the `bench.` streams (not the KV bucket: its keys and revisions stay valid). */
  private async purge(): Promise<void> {
    for (const stream of Object.values(BENCH_STREAMS)) await this.jsm.streams.purge(stream.name);
  }

  /** Empties the input stream and publishes `ops` events spread round-robin over the keys. */
  private async prefillInput(ops: number): Promise<void> {
    const body = bytes(this.options.sizes.eventBytes);
    await this.jsm.streams.purge(BENCH_STREAMS.input.name);
    await pipelined(ops, this.options.inFlight, async (i) => {
      await this.js.publish(benchInputSubject(keyOf(i % this.options.keys)), body);
    });
  }

  /**
   * Consumes `ops` messages of the input stream with a fresh durable pull consumer, handling at most
   * `concurrency` at once as `JetStreamServer` does (`consume({ max_messages: concurrency })`, then wait
   * for a free slot), and rates the 10 %–90 % window of completions (and, tail included, the first message received to the last handled). Deletes the
   * consumer after.
   */
  private async consumeAll(durable: string, ops: number, concurrency: number, handle: (message: JsMsg) => Promise<void>): Promise<RateResult> {
    const definition = benchInputConsumer(durable, Math.max(1_024, concurrency * 2));
    await provisionConsumer(this.jsm, definition);
    const consumer = await this.nats.jetstream().consumers.get(definition.stream, durable);
    const messages = await consumer.consume({ max_messages: concurrency });
    const inFlight = new Set<Promise<void>>();
    const completedAt: number[] = [];
    const window = middleWindow(0, ops);
    const cpuAt = new Map<number, CpuSample>();
    let received = 0;
    let handled = 0;
    let firstAt = 0;
    let failure: unknown = null;
    for await (const message of messages) {
      if (firstAt === 0) firstAt = nowMs();
      received += 1;
      const task: Promise<void> = handle(message)
        .then(() => {
          handled += 1;
          completedAt.push(nowMs());
          if (handled === window.from + 1 || handled === window.to + 1) cpuAt.set(handled, sampleCpu(this.options.serverPid));
        })
        .catch((error: unknown) => {
          failure ??= error;
        })
        .finally(() => inFlight.delete(task));
      inFlight.add(task);
      if (received >= ops) break;
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    const elapsedMs = nowMs() - firstAt;
    const cpuFrom = cpuAt.get(window.from + 1);
    const cpuTo = cpuAt.get(window.to + 1);
    const cpu =
      cpuFrom === undefined || cpuTo === undefined
        ? null
        : { selfMs: cpuTo.selfMs - cpuFrom.selfMs, otherMs: cpuTo.otherMs === null || cpuFrom.otherMs === null ? null : cpuTo.otherMs - cpuFrom.otherMs };    messages.stop();
    await this.jsm.consumers.delete(definition.stream, durable);
    if (failure !== null) throw failure;
    if (handled !== ops) throw new Error(`${durable}: handled ${handled} of ${ops} messages`);
    const steady = windowRate(completedAt, window.from, window.to);
    return { ops, elapsedMs, opsPerSec: steady.opsPerSec, opsPerSecToLast: perSecond(ops, elapsedMs), ...(cpu === null ? {} : { cpu: perOp(cpu, steady.ops) }) };
  }
}

/** Times `run`, which performs `ops` operations. */
async function timed(ops: number, run: () => Promise<void>, serverPid?: number): Promise<RateResult> {
  const started = nowMs();
  const cpu = sampleCpu(serverPid);
  await run();
  const elapsedMs = nowMs() - started;
  return { ops, elapsedMs, opsPerSec: perSecond(ops, elapsedMs), cpu: perOp(cpuSince(cpu, serverPid), ops) };
}

function perOp(spent: { selfMs: number; otherMs: number | null }, ops: number): CpuPerOp {
  return { clientUsPerOp: (spent.selfMs * 1_000) / ops, serverUsPerOp: spent.otherMs === null ? null : (spent.otherMs * 1_000) / ops };
}

/** Runs `op` `ops` times one after the other, with per-operation latency. */
async function timedSerial(ops: number, op: (index: number) => Promise<void>): Promise<RateResult> {
  const samples: number[] = [];
  const started = nowMs();
  for (let i = 0; i < ops; i += 1) {
    const t = nowMs();
    await op(i);
    samples.push(nowMs() - t);
  }
  const elapsedMs = nowMs() - started;
  return { ops, elapsedMs, opsPerSec: perSecond(ops, elapsedMs), latency: summarise(samples) };
}
