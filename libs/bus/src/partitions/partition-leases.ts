import { Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { nanos, type JetStreamManager, type KV, type KvEntry, type NatsConnection } from 'nats';
import { z } from 'zod';
import { BUCKETS, DEFAULT_PARTITION_COUNT } from '@troupe/contracts';

/** The value of a partition lease key `partition.<n>`. `acquiredAt` (ISO-8601) is for operators only. */
export const PartitionLease = z.object({ ownerId: z.string().min(1), acquiredAt: z.string() });
export type PartitionLease = z.infer<typeof PartitionLease>;

/** The value of a membership heartbeat key `member.<ownerId>`. `joinedAt` (ISO-8601) is for operators only. */
export const LeaseMember = z.object({ ownerId: z.string().min(1), joinedAt: z.string() });
export type LeaseMember = z.infer<typeof LeaseMember>;

/**
 * Why a partition stopped being owned: `released` (handed over on purpose: surplus, shutdown, or a
 * failed `onAcquired`), `lapsed` (the server no longer holds this owner's lease: it expired or another
 * owner took it), `unreachable` (no renewal was confirmed before the lease could have expired).
 */
export type PartitionLossReason = 'released' | 'lapsed' | 'unreachable';

/** Options of {@link PartitionLeaseManager}. */
export interface PartitionLeaseOptions {
  /** A connected NATS client; the manager does not close it. */
  nats: NatsConnection;
  /** This member's unique id, e.g. `hostname:pid:random` (any string; never reused by another process). */
  ownerId: string;
  /** Number of partitions (default {@link DEFAULT_PARTITION_COUNT}); every member must use the same. */
  partitionCount?: number;
  /**
   * Lease time to live, ms (default 10,000; at least 1,000): the bucket's max age, so a lease not renewed
   * within it is deleted by the server. Every member must use the same; the last to start sets it.
   */
  leaseTtlMs?: number;
  /** How often leases are renewed and the share rebalanced, ms (default a third of `leaseTtlMs`). */
  renewEveryMs?: number;
  /** KV bucket (default {@link BUCKETS.partitionLeases}). */
  bucket?: string;
  /**
   * Called when a partition was acquired, before the next one is tried; start consuming it here. If it
   * throws, the lease is released again (`onLost` with `released`) and retried on a later round.
   */
  onAcquired?: (partition: number) => void | Promise<void>;
  /**
   * Called when a partition is no longer owned (or, for `released`, just before its lease is deleted, so
   * the next owner starts after this one stopped); stop consuming it here. Waited for at most one renew
   * period (the shutdown release: one lease TTL), then the manager goes on.
   */
  onLost?: (partition: number, reason: PartitionLossReason) => void | Promise<void>;
}

/** One partition lease as stored in the bucket. `revision` is the KV revision (stream sequence). */
export interface StoredPartitionLease extends PartitionLease {
  partition: number;
  revision: number;
}

interface HeldLease {
  revision: number;
  acquiredAt: string;
  /** `performance.now()` time before which the server cannot have expired the lease (ms). */
  validUntil: number;
}

interface LeaseView {
  /** Owner ids with a live membership heartbeat. */
  members: Set<string>;
  /** The live (not deleted, not expired) lease of each partition that has one. */
  leases: Map<number, { lease: PartitionLease; revision: number }>;
}

const PARTITION_KEY_PREFIX = 'partition.';
const MEMBER_KEY_PREFIX = 'member.';
const WRONG_LAST_SEQUENCE = 10071;

/** KV key of a partition lease: `partition.<n>`. */
export function partitionLeaseKey(partition: number): string {
  return `${PARTITION_KEY_PREFIX}${partition}`;
}

/** KV key of a member heartbeat: `member.<ownerId>` with every character outside `[-_A-Za-z0-9]` as `_`. */
export function memberKey(ownerId: string): string {
  return `${MEMBER_KEY_PREFIX}${ownerId.replace(/[^-\w]/g, '_')}`;
}

/**
 * How many partitions `ownerId` should own when `members` (including it) share `partitionCount`: the
 * members sorted by id take `ceil(P / M)` for the first `P mod M` of them and `floor(P / M)` for the
 * rest, so the shares add up to exactly `P` and differ by at most one.
 */
export function fairShare(partitionCount: number, members: Iterable<string>, ownerId: string): number {
  const sorted = [...new Set([...members, ownerId])].sort();
  const base = Math.floor(partitionCount / sorted.length);
  return base + (sorted.indexOf(ownerId) < partitionCount % sorted.length ? 1 : 0);
}

/**
 * The priority of `partition` for `ownerId` (rendezvous hashing, FNV-1a 32-bit of `<ownerId>#<partition>`):
 * a member tries free partitions in descending priority and releases surplus ones in ascending
 * priority, so members contend little and a member's choices are deterministic.
 */
export function leasePriority(ownerId: string, partition: number): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(`${ownerId}#${partition}`)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * Opens (creating if needed) the lease bucket with max age `leaseTtlMs`, and sets the max age of an
 * existing bucket to it when it differs.
 *
 * @throws Error from JetStream when the bucket cannot be created or updated.
 */
export async function openLeaseBucket(nats: NatsConnection, options: { bucket?: string; leaseTtlMs: number; timeoutMs?: number }): Promise<KV> {
  const timeout = options.timeoutMs ?? 5_000;
  const kv = await nats.jetstream({ timeout }).views.kv(options.bucket ?? BUCKETS.partitionLeases, { ttl: options.leaseTtlMs, history: 1 });
  const { streamInfo } = await kv.status();
  if (streamInfo.config.max_age !== nanos(options.leaseTtlMs)) {
    const jsm = await nats.jetstreamManager({ timeout });
    await jsm.streams.update(streamInfo.config.name, {
      ...streamInfo.config,
      max_age: nanos(options.leaseTtlMs),
      duplicate_window: Math.min(streamInfo.config.duplicate_window, nanos(options.leaseTtlMs)),
    });
  }
  return kv;
}

/**
 * Reads the live lease of every partition that has one (expired leases are gone: the server deleted
 * them). For tests and operators.
 *
 * @throws Error from JetStream when the bucket does not exist or cannot be read.
 */
export async function readPartitionLeases(nats: NatsConnection, options: { bucket?: string; partitionCount?: number } = {}): Promise<StoredPartitionLease[]> {
  const kv = await nats.jetstream().views.kv(options.bucket ?? BUCKETS.partitionLeases, { bindOnly: true });
  const entries = await Promise.all(
    Array.from({ length: options.partitionCount ?? DEFAULT_PARTITION_COUNT }, (_, partition) => kv.get(partitionLeaseKey(partition))),
  );
  const leases: StoredPartitionLease[] = [];
  entries.forEach((entry, partition) => {
    const lease = entry === null ? undefined : parseLive(entry, PartitionLease);
    if (entry !== null && lease !== undefined) leases.push({ partition, revision: entry.revision, ...lease });
  });
  return leases;
}

/**
 * Partition ownership by leases in a JetStream KV bucket whose max age is the lease TTL (nats-server
 * 2.9 has no per-key TTL, so the bucket's max age is it: a key not rewritten within the TTL is deleted
 * by the server). DESIGN.md "Durability protocol" item 5.
 *
 * - A member announces itself with a heartbeat key `member.<ownerId>` and owns a partition by its key
 *   `partition.<n>` holding `{ ownerId, acquiredAt }`.
 * - Acquire: `kv.create` (succeeds only when the key is absent, expired, or deleted). Renew: every
 *   `renewEveryMs`, `kv.update` conditioned on the revision last written, which fails once the lease
 *   expired or someone else holds it. Release: `kv.delete` conditioned on that revision, so a lease
 *   that meanwhile passed to another owner is never deleted.
 * - Fair share: each round, after renewing, the member reads the bucket and aims at
 *   {@link fairShare} of the live members; it acquires free partitions up to its share and releases
 *   surplus ones, so a newcomer gets partitions and a dead member's partitions are taken over once its
 *   leases expire (within the TTL plus one renew period).
 * - Clocks: only the server's TTL decides expiry; no member compares timestamps. Locally (monotonic
 *   clock), a lease counts as held until the TTL has passed since the last confirmed renewal was
 *   *sent*, and a member whose renewals fail gives a lease up in the last round before that, so a
 *   member cut off from NATS stops consuming before the server can hand its partitions to someone
 *   else. When two owners still overlap (a process stalled longer than the TTL), the snapshot version
 *   precondition is the fence.
 *
 * Rounds never overlap; callbacks run inside a round, one partition at a time.
 */
export class PartitionLeaseManager {
  /** This member's id. */
  readonly ownerId: string;
  /** Number of partitions. */
  readonly partitionCount: number;
  /** Lease time to live, ms. */
  readonly leaseTtlMs: number;
  /** Renew period, ms. */
  readonly renewEveryMs: number;
  private readonly bucket: string;
  private readonly log = new Logger(PartitionLeaseManager.name);
  private readonly held = new Map<number, HeldLease>();
  private kv: KV | null = null;
  private jsm: JetStreamManager | null = null;
  private streamName = '';
  private memberRevision = 0;
  private readonly joinedAt = new Date().toISOString();
  private state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;

  /** @throws RangeError when a number option is out of range or `ownerId` is empty. */
  constructor(private readonly options: PartitionLeaseOptions) {
    this.ownerId = options.ownerId;
    this.partitionCount = options.partitionCount ?? DEFAULT_PARTITION_COUNT;
    this.leaseTtlMs = options.leaseTtlMs ?? 10_000;
    this.renewEveryMs = options.renewEveryMs ?? Math.floor(this.leaseTtlMs / 3);
    this.bucket = options.bucket ?? BUCKETS.partitionLeases;
    if (this.ownerId.length === 0) throw new RangeError('ownerId must not be empty');
    if (!Number.isInteger(this.partitionCount) || this.partitionCount < 1) throw new RangeError(`partitionCount must be a positive integer, got ${this.partitionCount}`);
    if (!(this.leaseTtlMs >= 1_000)) throw new RangeError(`leaseTtlMs must be at least 1000, got ${this.leaseTtlMs}`);
    if (!(this.renewEveryMs > 0 && this.renewEveryMs < this.leaseTtlMs / 2)) {
      throw new RangeError(`renewEveryMs must be positive and below half of leaseTtlMs (${this.leaseTtlMs}), got ${this.renewEveryMs}`);
    }
  }

  /**
   * Opens the bucket, announces this member, runs the first round (acquiring up to the fair share of
   * the members seen now) and schedules the next rounds.
   *
   * @throws Error when already started, or from JetStream when the bucket cannot be opened.
   */
  async start(): Promise<void> {
    if (this.state !== 'idle') throw new Error(`PartitionLeaseManager ${this.ownerId} was already started`);
    const timeout = Math.min(5_000, this.renewEveryMs);
    this.kv = await openLeaseBucket(this.options.nats, { bucket: this.bucket, leaseTtlMs: this.leaseTtlMs, timeoutMs: timeout });
    this.jsm = await this.options.nats.jetstreamManager({ timeout });
    this.streamName = (await this.kv.status()).streamInfo.config.name;
    this.state = 'running';
    this.round = this.runRound();
    await this.round;
    this.round = null;
    this.schedule(this.renewEveryMs);
  }

  /** Partitions owned now, ascending. */
  owned(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  /**
   * Releases every lease (each after `onLost(partition, 'released')` returned, at most one TTL) and the
   * membership heartbeat, so the other members take the partitions over on their next round instead
   * of after the TTL. Idempotent; the manager cannot be started again.
   */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    if (this.state === 'idle') {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopping';
    if (this.timer !== null) clearTimeout(this.timer);
    await this.round;
    await Promise.all(this.owned().map((partition) => this.release(partition, this.leaseTtlMs)));
    try {
      if (this.memberRevision > 0) await this.kv!.delete(memberKey(this.ownerId), { previousSeq: this.memberRevision });
    } catch (error) {
      if (!isWrongLastSequence(error)) this.log.warn(`${this.ownerId}: membership not released (it expires within ${this.leaseTtlMs} ms): ${messageOf(error)}`);
    }
    this.state = 'stopped';
  }

  private schedule(delayMs: number): void {
    if (this.state !== 'running') return;
    this.timer = setTimeout(() => {
      const startedAt = performance.now();
      this.round = this.runRound();
      void this.round.then(() => {
        this.round = null;
        this.schedule(Math.max(0, this.renewEveryMs - (performance.now() - startedAt)));
      });
    }, delayMs);
    this.timer.unref();
  }

  /** One round: heartbeat, renew, read the bucket, rebalance. Never rejects. */
  private async runRound(): Promise<void> {
    try {
      await Promise.all([this.heartbeat(), this.renew()]);
      if (this.state !== 'running') return;
      const view = await this.readView();
      await this.rebalance(view);
    } catch (error) {
      this.log.warn(`${this.ownerId}: lease round failed, retrying in ${this.renewEveryMs} ms: ${messageOf(error)}`);
    }
  }

  private async heartbeat(): Promise<void> {
    try {
      this.memberRevision = await this.kv!.put(memberKey(this.ownerId), encodeJson({ ownerId: this.ownerId, joinedAt: this.joinedAt } satisfies LeaseMember));
    } catch (error) {
      this.log.warn(`${this.ownerId}: membership heartbeat failed: ${messageOf(error)}`);
    }
  }

  private async renew(): Promise<void> {
    const lost: Array<[number, PartitionLossReason]> = [];
    const retrying: number[] = [];
    let lastError: unknown;
    await Promise.all(
      [...this.held].map(async ([partition, lease]) => {
        const sentAt = performance.now();
        const deadline = lease.validUntil - sentAt;
        try {
          const revision = await withDeadline(
            this.kv!.update(partitionLeaseKey(partition), this.leaseValue(lease.acquiredAt), lease.revision),
            deadline,
          );
          if (revision === undefined) {
            lost.push([partition, 'unreachable']);
          } else {
            lease.revision = revision;
            lease.validUntil = sentAt + this.leaseTtlMs;
          }
        } catch (error) {
          if (isWrongLastSequence(error)) {
            lost.push([partition, 'lapsed']);
          } else if (performance.now() + this.renewEveryMs >= lease.validUntil) {
            // The lease could expire before the next round: stop now, before anyone can take it over.
            lost.push([partition, 'unreachable']);
          } else {
            retrying.push(partition);
            lastError = error;
          }
        }
      }),
    );
    if (retrying.length > 0) {
      this.log.warn(`${this.ownerId}: renewing partitions [${retrying.sort((a, b) => a - b)}] failed, retrying: ${messageOf(lastError)}`);
    }
    for (const [partition, reason] of lost) {
      this.held.delete(partition);
      await this.notifyLost(partition, reason, this.renewEveryMs);
    }
  }

  private async readView(): Promise<LeaseView> {
    const kv = this.kv!;
    const prefix = `$KV.${this.bucket}.`;
    const info = await this.jsm!.streams.info(this.streamName, { subjects_filter: `${prefix}>` });
    const keys = Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(prefix.length));
    const entries = await Promise.all(keys.map((key) => kv.get(key)));
    const view: LeaseView = { members: new Set(), leases: new Map() };
    for (const entry of entries) {
      if (entry === null) continue;
      if (entry.key.startsWith(MEMBER_KEY_PREFIX)) {
        const member = parseLive(entry, LeaseMember);
        if (member !== undefined) view.members.add(member.ownerId);
      } else if (entry.key.startsWith(PARTITION_KEY_PREFIX)) {
        const partition = Number(entry.key.slice(PARTITION_KEY_PREFIX.length));
        if (!Number.isInteger(partition) || partition < 0 || partition >= this.partitionCount) continue;
        if (entry.operation !== 'PUT') continue;
        // A value that does not parse still blocks the partition until it expires.
        const lease = parseLive(entry, PartitionLease) ?? { ownerId: '(unreadable)', acquiredAt: '' };
        view.leases.set(partition, { lease, revision: entry.revision });
      }
    }
    return view;
  }

  private async rebalance(view: LeaseView): Promise<void> {
    // A lease the bucket shows under another owner is gone, whatever our renewal said.
    for (const partition of this.owned()) {
      const stored = view.leases.get(partition);
      if (stored !== undefined && stored.lease.ownerId !== this.ownerId) {
        this.held.delete(partition);
        await this.notifyLost(partition, 'lapsed', this.renewEveryMs);
      }
    }
    const share = fairShare(this.partitionCount, view.members, this.ownerId);
    if (this.held.size > share) {
      const surplus = this.owned()
        .sort((a, b) => leasePriority(this.ownerId, a) - leasePriority(this.ownerId, b))
        .slice(0, this.held.size - share);
      for (const partition of surplus) await this.release(partition, this.renewEveryMs);
      return;
    }
    const candidates = Array.from({ length: this.partitionCount }, (_, partition) => partition)
      .filter((partition) => !this.held.has(partition))
      .filter((partition) => {
        const stored = view.leases.get(partition);
        // Free, or ours from a renewal whose answer was lost.
        return stored === undefined || stored.lease.ownerId === this.ownerId;
      })
      .sort((a, b) => leasePriority(this.ownerId, b) - leasePriority(this.ownerId, a));
    for (const partition of candidates) {
      if (this.held.size >= share || this.state !== 'running') break;
      await this.acquire(partition, view.leases.get(partition));
    }
  }

  private async acquire(partition: number, stored: { lease: PartitionLease; revision: number } | undefined): Promise<void> {
    const acquiredAt = stored?.lease.acquiredAt || new Date().toISOString();
    const sentAt = performance.now();
    let revision: number;
    try {
      revision =
        stored === undefined
          ? await this.kv!.create(partitionLeaseKey(partition), this.leaseValue(acquiredAt))
          : await this.kv!.update(partitionLeaseKey(partition), this.leaseValue(acquiredAt), stored.revision);
    } catch (error) {
      // Another member got there first; anything else is retried next round.
      if (!isWrongLastSequence(error)) this.log.warn(`${this.ownerId}: acquiring partition ${partition} failed: ${messageOf(error)}`);
      return;
    }
    this.held.set(partition, { revision, acquiredAt, validUntil: sentAt + this.leaseTtlMs });
    try {
      await this.options.onAcquired?.(partition);
    } catch (error) {
      this.log.warn(`${this.ownerId}: onAcquired(${partition}) failed, releasing the lease: ${messageOf(error)}`);
      await this.release(partition, this.renewEveryMs);
    }
  }

  /** Stops owning `partition`: `onLost` first (waited for at most `waitMs`), then the conditional delete. */
  private async release(partition: number, waitMs: number): Promise<void> {
    const lease = this.held.get(partition);
    if (lease === undefined) return;
    this.held.delete(partition);
    await this.notifyLost(partition, 'released', waitMs);
    try {
      await this.kv!.delete(partitionLeaseKey(partition), { previousSeq: lease.revision });
    } catch (error) {
      // wrong last sequence: it lapsed already, maybe to another owner, whose lease must stay.
      if (!isWrongLastSequence(error)) this.log.warn(`${this.ownerId}: releasing partition ${partition} failed (it expires within ${this.leaseTtlMs} ms): ${messageOf(error)}`);
    }
  }

  private async notifyLost(partition: number, reason: PartitionLossReason, waitMs: number): Promise<void> {
    const callback = this.options.onLost;
    if (callback === undefined) return;
    const done = (async () => callback(partition, reason))().catch((error: unknown) => {
      this.log.warn(`${this.ownerId}: onLost(${partition}, ${reason}) failed: ${messageOf(error)}`);
    });
    if ((await withDeadline(done.then(() => true), waitMs)) === undefined) {
      this.log.warn(`${this.ownerId}: onLost(${partition}, ${reason}) still running after ${waitMs} ms; going on`);
    }
  }

  private leaseValue(acquiredAt: string): Uint8Array {
    return encodeJson({ ownerId: this.ownerId, acquiredAt } satisfies PartitionLease);
  }
}

function encodeJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/** The parsed value of a live (`PUT`) entry, undefined for a delete marker or a value that does not parse. */
function parseLive<T>(entry: KvEntry, schema: z.ZodType<T>): T | undefined {
  if (entry.operation !== 'PUT') return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(new TextDecoder().decode(entry.value)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** `promise`'s value, or undefined when `ms` passes first (the promise goes on; its failure is ignored). */
async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  promise.catch(() => undefined);
  try {
    return await Promise.race([promise, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), Math.max(0, ms))))]);
  } finally {
    clearTimeout(timer);
  }
}

function isWrongLastSequence(error: unknown): boolean {
  const apiError = (error as { api_error?: { err_code?: number } } | null)?.api_error;
  return apiError?.err_code === WRONG_LAST_SEQUENCE || /wrong last sequence/i.test(messageOf(error));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
