import { z } from 'zod';
import { ModelCallSettings, Role, WorkflowBudgetLimits } from '@troupe/contracts';

/**
 * The shape of a workflow declared as data (YAML or JSON). Names (guards, actions, effects, delays, gate
 * texts, schemas) refer to a registry the host supplies at compile time; the document holds no code.
 *
 * ```yaml
 * workflowType: claim-processing
 * version: "1"
 * start: claim.submitted
 * events: { claim.submitted: ClaimSubmitted, claim.extracted: ClaimExtracted }
 * initial: extracting
 * states:
 *   extracting:
 *     effects: [requestExtraction]
 *     output: { event: claim.extracted, schema: ClaimExtracted, model: extractor }
 *     on: { claim.extracted: { target: classifying, actions: [recordDetails] } }
 * ```
 */

const Name = z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'a name: letters, digits and _, starting with a letter');
const StateName = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'a state name: letters, digits, _ and -, starting with a letter');
const EventName = z.string().regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/, 'an event type such as claim.extracted (namespaced, lower case)');
const Params = z.record(z.string(), z.unknown());

/** A guard, action or effect reference: a name, or `{ name, params }`. */
export const NamedReference = z.union([Name, z.strictObject({ name: Name, params: Params.optional() })]);
export type NamedReference = z.infer<typeof NamedReference>;

/** One transition: where to go, under which guard, doing which actions (in order). */
export const DeclaredTransition = z.strictObject({
  target: StateName,
  guard: NamedReference.optional(),
  actions: z.array(NamedReference).default([]),
});
export type DeclaredTransition = z.infer<typeof DeclaredTransition>;

/** The transitions of one event: one, or several tried in order (the first whose guard passes is taken). */
export const DeclaredTransitions = z.union([StateName, DeclaredTransition, z.array(DeclaredTransition).min(1)]);
export type DeclaredTransitions = z.infer<typeof DeclaredTransitions>;

/** A delayed transition: after the named delay (ms, from the registry), go to `target`. */
export const DeclaredTimeout = z.strictObject({ delay: Name, target: StateName, actions: z.array(NamedReference).default([]) });
export type DeclaredTimeout = z.infer<typeof DeclaredTimeout>;

/**
 * An approval gate: on entry the state asks for a human decision (an `approval.request` effect with gate
 * id `<workflowId>:<gate>`), carries the tag `approval`, and on `timeout` moves on (escalation).
 */
export const DeclaredApproval = z.strictObject({
  gate: z.string().regex(/^[a-z][a-z0-9-]*$/, 'a gate name such as claim-review'),
  allowedRoles: z.array(Role).min(1),
  /** Registry text producing what is proposed (data shown to the human). */
  proposed: Name,
  /** Registry text producing why a human is asked. */
  reason: Name,
  timeout: DeclaredTimeout,
});
export type DeclaredApproval = z.infer<typeof DeclaredApproval>;

/** What an agent-task state waits for: the result event, its schema name and the model it uses, if any. */
export const DeclaredOutput = z.strictObject({ event: EventName, schema: Name, model: Name.optional() });
export type DeclaredOutput = z.infer<typeof DeclaredOutput>;

/** One state. A `final` state has no effects, gate or transitions. */
export const DeclaredState = z.strictObject({
  type: z.enum(['atomic', 'final']).default('atomic'),
  description: z.string().max(2_000).optional(),
  /** Effects emitted on entry, in order (registry effect builders). */
  effects: z.array(NamedReference).default([]),
  approval: DeclaredApproval.optional(),
  output: DeclaredOutput.optional(),
  on: z.record(EventName, DeclaredTransitions).default({}),
});
export type DeclaredState = z.infer<typeof DeclaredState>;

/**
 * Spending limits of one workflow instance: USD, tokens (input + output), model calls. Every agent task
 * the workflow asks for carries them (`limits.budget`); the agents enforce them, the stricter of these
 * and their `TROUPE_WORKFLOW_MAX_*` ({@link WorkflowBudgetLimits}).
 */
export const DeclaredBudgets = z.strictObject(WorkflowBudgetLimits.shape);
export type DeclaredBudgets = z.infer<typeof DeclaredBudgets>;

/**
 * A model a state's agent uses: what for and with which settings (the provider comes from `TROUPE_MODEL_*`).
 * The task of a state naming it carries its temperature and output token cap (`limits.model`), and the
 * agent's model call uses them ({@link ModelCallSettings}).
 */
export const DeclaredModel = z.strictObject({
  purpose: z.string().min(1).max(1_000),
  ...ModelCallSettings.shape,
});
export type DeclaredModel = z.infer<typeof DeclaredModel>;

/** A whole declared workflow. */
export const DeclaredWorkflow = z.strictObject({
  workflowType: z.string().regex(/^[a-z][a-z0-9-]{0,127}$/, 'a workflow type such as claim-processing'),
  /** Stored with every snapshot, as a machine version. */
  version: z.string().min(1).max(32),
  /** The machine id (default: the workflow type). Delayed events are named after it. */
  id: z.string().min(1).max(128).optional(),
  description: z.string().max(4_000).optional(),
  /** The event that creates an instance. */
  start: EventName,
  /** Payload schema (a registry name) of every event the workflow accepts, the start event included. */
  events: z.record(EventName, Name),
  budgets: DeclaredBudgets.default({}),
  models: z.record(Name, DeclaredModel).default({}),
  initial: StateName,
  /** Transitions taken in every state that is not final (cancellation, failure). */
  on: z.record(EventName, DeclaredTransitions).default({}),
  states: z.record(StateName, DeclaredState).refine((states) => Object.keys(states).length > 0, 'at least one state'),
});
export type DeclaredWorkflow = z.infer<typeof DeclaredWorkflow>;
