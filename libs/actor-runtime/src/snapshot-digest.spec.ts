import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import { emailTriageMachine } from '@troupe/statecharts';
import { canonicalJson, snapshotDigest } from './snapshot-digest';

/** The first definition of canonical JSON (a round trip, then keys sorted): the one-pass version must give the same text. */
function canonicalByRoundTrip(value: unknown): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v === null || typeof v !== 'object') return v;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(v).sort()) sorted[key] = sortKeys((v as Record<string, unknown>)[key]);
    return sorted;
  };
  return JSON.stringify(sortKeys(JSON.parse(JSON.stringify(value ?? null)) as unknown));
}

/** A deterministic pseudo-random generator (mulberry32), so a failure is reproducible. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEYS = ['a', 'B', 'b', '_x', 'é', '10', '2', '0', '01', '-1', '1.5', '4294967295', '4294967294', 'key with space', '"quoted"', 'z'];
const LEAVES: unknown[] = [0, -0, 1.5, -3, 1e21, NaN, Infinity, '', 'text', 'line\nbreak "q" \u2028', true, false, null, undefined, () => 1, new Date(Date.UTC(2026, 0, 2))];

function randomValue(next: () => number, depth: number): unknown {
  const pick = next();
  if (depth > 3 || pick < 0.4) return LEAVES[Math.floor(next() * LEAVES.length)];
  if (pick < 0.65) return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
  const object: Record<string, unknown> = {};
  for (let i = Math.floor(next() * 6); i > 0; i -= 1) object[KEYS[Math.floor(next() * KEYS.length)]] = randomValue(next, depth + 1);
  return object;
}

describe('canonicalJson', () => {
  it('gives the text of the round-trip definition for random values (keys of every kind, undefined, NaN, dates, nesting)', () => {
    const next = random(9);
    for (let i = 0; i < 3_000; i += 1) {
      const value = { root: randomValue(next, 0), list: [randomValue(next, 1)] };
      expect(canonicalJson(value)).toBe(canonicalByRoundTrip(value));
    }
  });

  it('gives the text of the round-trip definition, hence the same digest, for real persisted snapshots', () => {
    const email = { messageId: '<m1@example.org>', from: 'Ann <ann@example.org>', to: 'me@example.org', subject: 'Lunch?', date: null, text: 'Free on Friday?', headers: {}, origin: {} };
    let [snapshot] = initialTransition(emailTriageMachine, { workflowId: 'wf-1', email, confidenceThreshold: 0.8, approvalTimeoutMs: 2_000, escalationTimeoutMs: 5_000 }) as [AnyMachineSnapshot, unknown];
    [snapshot] = transition(emailTriageMachine, snapshot as never, { type: 'email.classified', payload: { label: 'ham', confidence: 0.5, reasons: ['unsure'] } } as never) as [AnyMachineSnapshot, unknown];
    const persisted = emailTriageMachine.getPersistedSnapshot(snapshot as never);
    expect(canonicalJson(persisted)).toBe(canonicalByRoundTrip(persisted));
    expect(snapshotDigest(persisted)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('sorts keys at every depth and drops undefined members, so key order does not change the digest', () => {
    expect(canonicalJson({ b: 1, a: { d: undefined, c: [undefined, 2] } })).toBe('{"a":{"c":[null,2]},"b":1}');
    expect(snapshotDigest({ x: 1, y: 2 })).toBe(snapshotDigest({ y: 2, x: 1 }));
    expect(canonicalJson(undefined)).toBe('null');
  });

  it('throws TypeError on a cyclic value or a BigInt, as JSON.stringify does', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(TypeError);
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError);
  });
});
