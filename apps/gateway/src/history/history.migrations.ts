import type { WorkflowMigration } from '@troupe/actor-runtime';

/**
 * The migrations operators may run (`history.cli.ts migrate`), one per `<workflowType>@<from>-><to>`.
 * Declare one when a machine's version is bumped and running instances should move: `mapState` says
 * where each old state goes (or why it cannot), `mapContext` reshapes the context; both targets must be
 * in `HISTORY_DEFINITIONS`. None is declared yet: email-triage has had no migratable change.
 */
export const HISTORY_MIGRATIONS: readonly WorkflowMigration[] = [];
