import type { WorkflowMigration } from '@troupe/actor-runtime';
import { EMAIL_TRIAGE_V3_TO_V4 } from '@troupe/statecharts';

/**
 * The migrations operators may run (`history.cli.ts migrate`), one per `<workflowType>@<from>-><to>`.
 * Declare one when a machine's version is bumped and running instances should move: `mapState` says
 * where each old state goes (or why it cannot), `mapContext` reshapes the context; both versions must be
 * in `HISTORY_DEFINITIONS`. The mappings are pure and live next to their machines in `statecharts/`.
 */
export const HISTORY_MIGRATIONS: readonly WorkflowMigration[] = [
  // email-triage@3 -> @4: agent failures go to a human gate instead of `failed`; every running state maps to itself.
  EMAIL_TRIAGE_V3_TO_V4,
];
