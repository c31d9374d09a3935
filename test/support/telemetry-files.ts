import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { MetricRecord, SpanRecord } from '@troupe/telemetry';

function readLines<T>(dir: string, suffix: string): T[] {
  if (!existsSync(dir)) return [];
  const records: T[] = [];
  for (const file of readdirSync(dir).filter((name) => name.endsWith(suffix)).sort()) {
    for (const line of readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      // A line being appended right now may be incomplete: skip it, the next read has it.
      if (line.trim() === '') continue;
      try {
        records.push(JSON.parse(line) as T);
      } catch {
        // incomplete last line
      }
    }
  }
  return records;
}

/** Every span the apps' test-only exporters wrote to `dir` (`TROUPE_TEST_TELEMETRY_DIR`). */
export function readSpanRecords(dir: string): SpanRecord[] {
  return readLines<SpanRecord>(dir, '.spans.jsonl');
}

/**
 * The latest exported value of each metric data point the apps wrote to `dir`, keyed by service,
 * metric name and attributes (cumulative temporality: the latest export holds the totals).
 */
export function readLatestMetrics(dir: string): MetricRecord[] {
  const latest = new Map<string, MetricRecord>();
  for (const record of readLines<MetricRecord>(dir, '.metrics.jsonl')) {
    const key = `${record.service}|${record.name}|${JSON.stringify(Object.entries(record.attributes).sort())}`;
    const previous = latest.get(key);
    if (previous === undefined || previous.exportedAtMs <= record.exportedAtMs) latest.set(key, record);
  }
  return [...latest.values()];
}

/** Polls `read()` every 200 ms until `predicate` holds or `timeoutMs` passes; returns the last read. */
export async function pollUntil<T>(read: () => T, predicate: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (predicate(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
