import type { StateValue } from '@troupe/contracts';

/**
 * Every active state node as a dotted path, parents first: `{ review: { waiting: {} } }` and
 * `{ review: 'waiting' }` give `["review", "review.waiting"]`; `'sent'` gives `["sent"]`.
 */
export function statePaths(value: StateValue, prefix = ''): string[] {
  if (typeof value === 'string') return [prefix === '' ? value : `${prefix}.${value}`];
  const paths: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    paths.push(path);
    if (typeof child === 'string' || Object.keys(child).length > 0) paths.push(...statePaths(child, path));
  }
  return paths;
}
