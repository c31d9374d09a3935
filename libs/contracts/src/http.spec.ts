import { describe, expect, it } from 'vitest';
import { CountWorkflowsQuery, ListWorkflowsQuery } from './http';

describe('ListWorkflowsQuery', () => {
  it('parses sort as field and order, a leading minus meaning descending', () => {
    expect(ListWorkflowsQuery.parse({ sort: '-updatedAt' }).sort).toEqual({ field: 'updatedAt', order: 'desc' });
    expect(ListWorkflowsQuery.parse({ sort: 'workflowId' }).sort).toEqual({ field: 'workflowId', order: 'asc' });
    expect(ListWorkflowsQuery.parse({}).sort).toBeUndefined();
    expect(ListWorkflowsQuery.safeParse({ sort: 'status' }).success).toBe(false);
  });

  it('normalises update times with any offset to the UTC form the stores compare', () => {
    const query = ListWorkflowsQuery.parse({ updatedAfter: '2026-01-01T02:00:00+02:00', updatedBefore: '2026-01-02T00:00:00Z' });
    expect(query).toMatchObject({ updatedAfter: '2026-01-01T00:00:00.000Z', updatedBefore: '2026-01-02T00:00:00.000Z' });
    expect(ListWorkflowsQuery.safeParse({ updatedAfter: 'yesterday' }).success).toBe(false);
  });

  it('keeps the filters but not sort and paging for counts', () => {
    const query = CountWorkflowsQuery.parse({ type: 'email-triage', tag: 'label:spam', machineVersion: '2', limit: '5', sort: 'updatedAt' });
    expect(query).toEqual({ type: 'email-triage', tag: { key: 'label', value: 'spam' }, machineVersion: '2' });
  });
});
