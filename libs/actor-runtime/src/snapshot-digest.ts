import { createHash } from 'node:crypto';

/**
 * `value` as canonical JSON: what `JSON.stringify` keeps (so `undefined` members are dropped, as any
 * store round trip drops them), with object keys sorted at every depth, so two stores that reorder
 * keys (MongoDB may) still give the same text.
 *
 * The text is exactly `JSON.stringify(sortKeys(JSON.parse(JSON.stringify(value ?? null))))`, its first
 * definition, where `sortKeys` rebuilt every object with its keys in `sort()` order (so array-index
 * keys such as `"2"` still come first, in ascending numeric order, as JavaScript enumerates them). It is
 * written in one pass: the round trip through `JSON.parse` cost a second encoding of the snapshot on
 * every durable step, next to the store's own (see bench/README.md).
 *
 * @throws TypeError for a BigInt or a cyclic value, as `JSON.stringify` does.
 */
export function canonicalJson(value: unknown): string {
  return canonical(value ?? null, '', new Set()) ?? 'null';
}

/** `sha256:<hex>` of {@link canonicalJson} of `value`: the digest journal entries carry of their snapshot. */
export function snapshotDigest(value: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(value)).digest('hex')}`;
}

/** The canonical text of `value` under `key` of its holder, or undefined where `JSON.stringify` leaves the member out. */
function canonical(value: unknown, key: string, ancestors: Set<object>): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON(key: string): unknown }).toJSON(key);
  }
  if (value instanceof Number || value instanceof String || value instanceof Boolean) value = value.valueOf();
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'bigint':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'object':
      break;
    default:
      return undefined;
  }
  if (value === null) return 'null';
  if (ancestors.has(value)) throw new TypeError('Converting circular structure to JSON');
  ancestors.add(value);
  let text: string;
  if (Array.isArray(value)) {
    const items: string[] = [];
    for (let i = 0; i < value.length; i += 1) items.push(canonical(value[i], String(i), ancestors) ?? 'null');
    text = `[${items.join(',')}]`;
  } else {
    const members: string[] = [];
    for (const member of Object.keys(value).sort(compareKeys)) {
      const memberText = canonical((value as Record<string, unknown>)[member], member, ancestors);
      if (memberText !== undefined) members.push(`${JSON.stringify(member)}:${memberText}`);
    }
    text = `{${members.join(',')}}`;
  }
  ancestors.delete(value);
  return text;
}

/** Array-index keys (`"0"` … `"4294967294"`) first in numeric order, as objects enumerate them; then the rest in `sort()` order. */
function compareKeys(a: string, b: string): number {
  const aIndex = isArrayIndex(a);
  const bIndex = isArrayIndex(b);
  if (aIndex && bIndex) return Number(a) - Number(b);
  if (aIndex !== bIndex) return aIndex ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function isArrayIndex(key: string): boolean {
  const first = key.charCodeAt(0);
  if (first < 48 || first > 57 || (first === 48 && key.length > 1) || key.length > 10) return false;
  for (let i = 1; i < key.length; i += 1) {
    const code = key.charCodeAt(i);
    if (code < 48 || code > 57) return false;
  }
  return Number(key) < 4_294_967_295;
}
