import { describe, expect, it } from 'vitest';
import { definitionKey, migrationKey } from '@troupe/actor-runtime';
import { WORKFLOW_CATALOG } from '@troupe/statecharts';
import { HISTORY_DEFINITIONS } from './history.definitions';
import { HISTORY_MIGRATIONS } from './history.migrations';

describe('the operator migrations and the history definitions', () => {
  const registered = new Set(HISTORY_DEFINITIONS.map((d) => definitionKey(d.workflowType, d.machineVersion)));

  it('declares email-triage@3->4', () => {
    expect(HISTORY_MIGRATIONS.map(migrationKey)).toContain('email-triage@3->4');
  });

  it('can replay and migrate both ends of every declared migration', () => {
    for (const migration of HISTORY_MIGRATIONS) {
      expect(registered, migrationKey(migration)).toContain(definitionKey(migration.workflowType, migration.fromVersion));
      expect(registered, migrationKey(migration)).toContain(definitionKey(migration.workflowType, migration.toVersion));
    }
  });

  it('replays the version every catalog workflow starts on (a bump not added here would leave new journals unreplayable)', () => {
    for (const entry of WORKFLOW_CATALOG) expect(registered).toContain(definitionKey(entry.workflowType, entry.machineVersion));
    expect(registered).toContain('email-triage@3');
  });
});
