import { EMAIL_TRIAGE, type StateValue } from '@troupe/contracts';
import type { EmailTriageContext } from './email-triage.machine';
import { EMAIL_TRIAGE_V3_MACHINE_VERSION, type EmailTriageV3Context } from './email-triage.v3.machine';

/** The states an email-triage@3 instance can be running in (its non-final states). */
const V3_RUNNING_STATES = [
  'classifying',
  'humanReview',
  'reviewEscalated',
  'quarantining',
  'routing',
  'summarising',
  'drafting',
  'awaitingApproval',
  'escalated',
  'sending',
] as const;

/**
 * email-triage@3 → @4 (agent failures go to a human instead of `failed`). Pure; declared for operators
 * in `apps/gateway/src/history/history.migrations.ts` (a `WorkflowMigration` of `@troupe/actor-runtime`).
 *
 * - States: v4 keeps every v3 state under the same name and id, with the same entry effects and
 *   delays, so each running v3 state maps to itself; its pending timers (`xstate.after.<delay>.email-triage.<state>`)
 *   and the pending gate stay valid. A state value that is not one of them (a final state, or a shape
 *   v3 never had) is refused with the reason.
 * - Context: v4 adds `agentFailures`, empty for a moved instance (v3 failed on the first agent failure,
 *   so a running v3 instance has had none). A context that is not a v3 triage context is refused.
 *
 * An instance moved while an agent task is in flight gets v4's handling if that task fails: a human gate.
 * `toVersion` is '4' literally: when v4 is itself frozen for a v5, this migration still targets it.
 */
export const EMAIL_TRIAGE_V3_TO_V4 = {
  workflowType: EMAIL_TRIAGE,
  fromVersion: EMAIL_TRIAGE_V3_MACHINE_VERSION,
  toVersion: '4',
  mapState(stateValue: StateValue): { stateValue: StateValue } | { refuse: string } {
    if (typeof stateValue === 'string' && (V3_RUNNING_STATES as readonly string[]).includes(stateValue)) return { stateValue };
    return { refuse: `email-triage@3 state ${JSON.stringify(stateValue)} is not a running state of v3 (${V3_RUNNING_STATES.join(', ')}); v4 has no mapping for it` };
  },
  /** @throws Error when `context` is not an email-triage@3 context (the instance is then refused). */
  mapContext(context: unknown): EmailTriageContext {
    if (typeof context !== 'object' || context === null || !('workflowId' in context) || !('email' in context) || 'agentFailures' in context) {
      throw new Error('the context is not an email-triage@3 context (no workflowId/email, or already has agentFailures)');
    }
    return { ...(context as EmailTriageV3Context), agentFailures: [] };
  },
};
