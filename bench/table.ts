/** A plain-text table: a title, a header row and rows of cells, columns padded to fit (numbers right-aligned). */
export function renderTable(title: string, header: string[], rows: string[][]): string {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => (row[i] ?? '').length)));
  const numeric = header.map((_, i) => i > 0 && rows.every((row) => /^[-+]?[\d,.]*[\d]\s*[%x×]?$|^(n\/a|-|)$/.test(row[i] ?? '')));
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [title, line(header), rule, ...rows.map(line)].join('\n');
}

/** 12,345 (no decimals) for rates; one decimal below 100. */
export function formatRate(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1);
}

/** Milliseconds with 2 decimals (3 below 0.1). */
export function formatMs(value: number | undefined | null): string {
  if (value === undefined || value === null) return '-';
  return value < 0.1 ? value.toFixed(3) : value.toFixed(2);
}

/** Microseconds, no decimals. */
export function formatUs(value: number | undefined | null): string {
  return value === undefined || value === null ? '-' : Math.round(value).toLocaleString('en-US');
}

/** 1,234,567 B → 1,234,567 (bytes, no decimals). */
export function formatBytes(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

export function formatRatio(value: number): string {
  return value.toFixed(2);
}
