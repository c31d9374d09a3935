import { createHash } from 'node:crypto';

/**
 * `value` as canonical JSON: what `JSON.stringify` keeps (so `undefined` members are dropped, as any
 * store round trip drops them), with object keys sorted at every depth, so two stores that reorder
 * keys (MongoDB may) still give the same text.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(JSON.parse(JSON.stringify(value ?? null)) as unknown));
}

/** `sha256:<hex>` of {@link canonicalJson} of `value`: the digest journal entries carry of their snapshot. */
export function snapshotDigest(value: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(value)).digest('hex')}`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
  return sorted;
}
