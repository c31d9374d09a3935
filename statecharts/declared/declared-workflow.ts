import { setup, type AnyStateMachine } from 'xstate';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { TroupeError, withAgentTaskLimits, type AgentTaskLimits, type Effect } from '@troupe/contracts';
import type { WorkflowCatalogEntry } from '../catalog';
import {
  DeclaredWorkflow,
  type DeclaredBudgets,
  type DeclaredModel,
  type DeclaredOutput,
  type DeclaredState,
  type DeclaredTransition,
  type DeclaredTransitions,
  type NamedReference,
} from './declared-workflow.schema';

/**
 * Declared workflows: a workflow written as data (YAML or JSON; JSON is read as the YAML 1.2 subset it
 * is), validated by the zod schema {@link DeclaredWorkflow}, checked against a host's registry of named
 * pieces, and compiled to an XState machine. Pure: the caller reads the file; nothing here does I/O.
 *
 * Start with {@link loadDeclaredWorkflow} (parse, validate, compile), or {@link parseDeclaredWorkflow}
 * and {@link compileDeclaredWorkflow} separately.
 */

/** Where a problem is: dotted path in the document and 1-based line and column (null when the document has no such node). */
export interface DeclaredWorkflowIssue {
  path: string;
  line: number | null;
  column: number | null;
  message: string;
}

/** A declared workflow that could not be read, validated or compiled; every problem found is in `issues`. */
export class DeclaredWorkflowError extends TroupeError {
  readonly issues: DeclaredWorkflowIssue[];

  constructor(source: string, issues: DeclaredWorkflowIssue[]) {
    super('DECLARED_WORKFLOW_INVALID', `${source} is not a valid workflow:\n${issues.map((issue) => `  ${formatIssue(source, issue)}`).join('\n')}`, { retryable: false });
    this.issues = issues;
  }
}

function formatIssue(source: string, issue: DeclaredWorkflowIssue): string {
  const where = issue.line === null ? source : `${source}:${issue.line}:${issue.column}`;
  return `${where} ${issue.path === '' ? '(root)' : issue.path}: ${issue.message}`;
}

/** A parsed and schema-valid document, with the positions of its nodes for later errors. */
export interface DeclaredWorkflowDocument {
  definition: DeclaredWorkflow;
  /** File name or other label used in error messages. */
  source: string;
  /** 1-based line and column of the node at `path` (the deepest existing node along it), or null. */
  locate(path: ReadonlyArray<PropertyKey>): { line: number; column: number } | null;
}

/** Host-supplied implementations the document refers to by name. */
export interface DeclaredWorkflowRegistry {
  /** The initial context from the machine input. Approval gates read `context.workflowId`. */
  context(input: never): { workflowId: string };
  /** XState action implementations (usually `assign`). `requestEffect` is reserved. */
  actions: Record<string, unknown>;
  /** Guards: `(args, params) => boolean`. */
  guards: Record<string, (args: never, params: never) => boolean>;
  /** Delays in ms: `(args) => number`. */
  delays: Record<string, (args: never) => number>;
  /** Effect builders: `(args, params) => Effect`. */
  effects: Record<string, (args: never, params?: never) => Effect>;
  /** Gate texts: `(args) => unknown` (what is proposed) or `=> string` (why). */
  texts: Record<string, (args: never) => unknown>;
  /** Payload schemas by name. */
  schemas: Record<string, z.ZodType>;
}

/** A compiled declared workflow: a catalog entry, plus the declared budgets, models and agent outputs. */
export interface CompiledWorkflow extends WorkflowCatalogEntry {
  description: string | null;
  budgets: DeclaredBudgets;
  models: Record<string, DeclaredModel>;
  /** Per agent-task state: the event it waits for, its schema and model. */
  outputs: Record<string, DeclaredOutput>;
}

/**
 * Parses YAML (or JSON) text and validates it against {@link DeclaredWorkflow}.
 *
 * @throws DeclaredWorkflowError with every syntax error, or every schema issue, each with its path, line and column.
 */
export function parseDeclaredWorkflow(text: string, options: { source?: string } = {}): DeclaredWorkflowDocument {
  const source = options.source ?? 'workflow';
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  if (document.errors.length > 0) {
    throw new DeclaredWorkflowError(
      source,
      document.errors.map((error) => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        return { path: '', line, column: col, message: error.message.split('\n')[0] };
      }),
    );
  }
  const locate = (path: ReadonlyArray<PropertyKey>) => {
    const offset = offsetOf(document, path);
    if (offset === null) return null;
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const parsed = DeclaredWorkflow.safeParse(document.toJS());
  if (!parsed.success) {
    throw new DeclaredWorkflowError(
      source,
      parsed.error.issues.map((issue) => {
        // An unknown key is reported on its object; point at the key itself.
        const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
        const path = keys.length > 0 ? [...issue.path, keys[0]] : issue.path;
        const at = locate(path);
        return { path: path.map(String).join('.'), line: at?.line ?? null, column: at?.column ?? null, message: issue.message };
      }),
    );
  }
  return { definition: parsed.data, source, locate };
}

/** The offset of the node at `path`: a map entry's value (its key when the value is empty), a sequence item; the deepest found. */
function offsetOf(document: Document, path: ReadonlyArray<PropertyKey>): number | null {
  let node: unknown = document.contents;
  let offset: number | null = (node as { range?: [number] } | null)?.range?.[0] ?? null;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (pair === undefined) break;
      const key = pair.key as { range?: [number] };
      const value = pair.value as { range?: [number] } | null;
      if (value?.range === undefined) {
        offset = key.range?.[0] ?? offset;
        node = null;
        continue;
      }
      offset = value.range[0];
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as { range?: [number] } | undefined;
      if (item?.range === undefined) break;
      offset = item.range[0];
      node = item;
    } else {
      break;
    }
  }
  return offset;
}

function nameOf(reference: NamedReference): string {
  return typeof reference === 'string' ? reference : reference.name;
}

function xstateReference(reference: NamedReference): string | { type: string; params: Record<string, unknown> } {
  return typeof reference === 'string' || reference.params === undefined ? nameOf(reference) : { type: reference.name, params: reference.params };
}

function transitionsOf(declared: DeclaredTransitions): DeclaredTransition[] {
  if (typeof declared === 'string') return [{ target: declared, actions: [] }];
  return Array.isArray(declared) ? declared : [declared];
}

type Locate = DeclaredWorkflowDocument['locate'];

/** Checks every name and target against the registry and the document; collects every problem. */
function checkReferences(definition: DeclaredWorkflow, registry: DeclaredWorkflowRegistry, locate: Locate): DeclaredWorkflowIssue[] {
  const issues: DeclaredWorkflowIssue[] = [];
  const report = (path: PropertyKey[], message: string) => {
    const at = locate(path);
    issues.push({ path: path.map(String).join('.'), line: at?.line ?? null, column: at?.column ?? null, message });
  };
  const known = (kind: string, table: Record<string, unknown>, name: string, path: PropertyKey[]) => {
    if (!Object.hasOwn(table, name)) report(path, `unknown ${kind} "${name}"; the registry has ${Object.keys(table).sort().join(', ') || 'none'}`);
  };
  const states = Object.keys(definition.states);
  const checkTarget = (target: string, path: PropertyKey[]) => {
    if (!states.includes(target)) report(path, `unknown state "${target}"; states are ${states.join(', ')}`);
  };
  const checkReference = (kind: 'guard' | 'action' | 'effect', reference: NamedReference, path: PropertyKey[]) => {
    const table = kind === 'guard' ? registry.guards : kind === 'action' ? registry.actions : registry.effects;
    known(kind, table, nameOf(reference), typeof reference === 'string' ? path : [...path, 'name']);
    if (kind === 'action' && nameOf(reference) === 'requestEffect') report(path, 'requestEffect is reserved; list effects under "effects"');
  };
  const checkTransitions = (on: Record<string, DeclaredTransitions>, path: PropertyKey[]) => {
    for (const [event, declared] of Object.entries(on)) {
      if (!Object.hasOwn(definition.events, event)) report([...path, event], `event "${event}" is not declared under "events"`);
      const many = Array.isArray(declared);
      transitionsOf(declared).forEach((transition, index) => {
        const at = many ? [...path, event, index] : [...path, event];
        checkTarget(transition.target, typeof declared === 'string' ? at : [...at, 'target']);
        if (transition.guard !== undefined) checkReference('guard', transition.guard, [...at, 'guard']);
        transition.actions.forEach((action, n) => checkReference('action', action, [...at, 'actions', n]));
      });
    }
  };

  if (!states.includes(definition.initial)) report(['initial'], `unknown state "${definition.initial}"; states are ${states.join(', ')}`);
  if (!Object.hasOwn(definition.events, definition.start)) report(['start'], `start event "${definition.start}" is not declared under "events"`);
  for (const [event, schema] of Object.entries(definition.events)) known('schema', registry.schemas, schema, ['events', event]);
  checkTransitions(definition.on, ['on']);
  for (const [name, state] of Object.entries(definition.states)) {
    const path = ['states', name];
    if (state.type === 'final' && (state.effects.length > 0 || state.approval !== undefined || Object.keys(state.on).length > 0 || state.output !== undefined)) {
      report(path, 'a final state has no effects, approval, output or transitions');
    }
    state.effects.forEach((effect, n) => checkReference('effect', effect, [...path, 'effects', n]));
    if (state.approval !== undefined) {
      const approval = state.approval;
      known('text', registry.texts, approval.proposed, [...path, 'approval', 'proposed']);
      known('text', registry.texts, approval.reason, [...path, 'approval', 'reason']);
      known('delay', registry.delays, approval.timeout.delay, [...path, 'approval', 'timeout', 'delay']);
      checkTarget(approval.timeout.target, [...path, 'approval', 'timeout', 'target']);
      approval.timeout.actions.forEach((action, n) => checkReference('action', action, [...path, 'approval', 'timeout', 'actions', n]));
    }
    if (state.output !== undefined) {
      const output = state.output;
      if (definition.events[output.event] === undefined) report([...path, 'output', 'event'], `event "${output.event}" is not declared under "events"`);
      else if (definition.events[output.event] !== output.schema) {
        report([...path, 'output', 'schema'], `"${output.schema}" is not the schema declared for ${output.event} ("${definition.events[output.event]}")`);
      }
      if (output.model !== undefined && !Object.hasOwn(definition.models, output.model)) report([...path, 'output', 'model'], `unknown model "${output.model}"; declare it under "models"`);
    }
    checkTransitions(state.on, [...path, 'on']);
  }
  return issues;
}

type Args = { context: { workflowId: string }; event: unknown };

/** `record` without its undefined fields, or undefined when none is left. */
function definedFields<T extends object>(record: T): T | undefined {
  const defined = Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as T;
  return Object.keys(defined).length === 0 ? undefined : defined;
}

/**
 * What the agent tasks of `state` carry ({@link AgentTaskLimits}): the workflow's `budgets` and the
 * temperature and output token cap of the model the state's `output.model` names; undefined when the
 * workflow declares neither, so its tasks are those of a workflow without a declaration.
 */
export function declaredTaskLimits(definition: Pick<DeclaredWorkflow, 'budgets' | 'models'>, state: Pick<DeclaredState, 'output'>): AgentTaskLimits | undefined {
  const budget = definedFields(definition.budgets);
  const declaredModel = state.output?.model === undefined ? undefined : definition.models[state.output.model];
  const model = declaredModel === undefined ? undefined : definedFields({ temperature: declaredModel.temperature, maxOutputTokens: declaredModel.maxOutputTokens });
  return definedFields({ budget, model });
}

function compileState(state: DeclaredState, registry: DeclaredWorkflowRegistry, limits: AgentTaskLimits | undefined): Record<string, unknown> {
  if (state.type === 'final') return { type: 'final' };
  const entry: unknown[] = state.effects.map((reference) => {
    const build = registry.effects[nameOf(reference)] as (args: Args, params?: unknown) => Effect;
    const params = typeof reference === 'string' ? undefined : reference.params;
    return { type: 'requestEffect', params: (args: Args) => withAgentTaskLimits(params === undefined ? build(args) : build(args, params), limits) };
  });
  const config: Record<string, unknown> = { on: compileOn(state.on, '') };
  if (state.approval !== undefined) {
    const { gate, allowedRoles, proposed, reason, timeout } = state.approval;
    const proposedText = registry.texts[proposed] as (args: Args) => unknown;
    const reasonText = registry.texts[reason] as (args: Args) => string;
    entry.push({
      type: 'requestEffect',
      params: (args: Args): Effect => ({
        kind: 'approval.request',
        gateId: `${args.context.workflowId}:${gate}`,
        gate,
        proposed: proposedText(args),
        reason: reasonText(args),
        allowedRoles,
      }),
    });
    config.tags = ['approval'];
    config.after = { [timeout.delay]: { target: timeout.target, actions: timeout.actions.map(xstateReference) } };
  }
  if (entry.length > 0) config.entry = entry;
  if (state.description !== undefined) config.description = state.description;
  return config;
}

function compileOn(on: Record<string, DeclaredTransitions>, targetPrefix: string): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(on).map(([event, declared]) => [
      event,
      transitionsOf(declared).map((transition) => ({
        target: `${targetPrefix}${transition.target}`,
        ...(transition.guard === undefined ? {} : { guard: xstateReference(transition.guard) }),
        actions: transition.actions.map(xstateReference),
      })),
    ]),
  );
}

/**
 * Compiles a validated document against `registry` into a machine and its catalog entry. The machine is
 * built with XState's `setup` from the registry's implementations, so it is as pure as they are. Every
 * `agent.task` effect a state emits carries the workflow's budgets and the state's model settings as
 * `limits` ({@link declaredTaskLimits}); the agents enforce them.
 *
 * @throws DeclaredWorkflowError naming every unknown state, event, guard, action, effect, delay, text,
 *   schema or model, with its path, line and column.
 */
export function compileDeclaredWorkflow(document: DeclaredWorkflowDocument, registry: DeclaredWorkflowRegistry): CompiledWorkflow {
  const { definition } = document;
  const issues = checkReferences(definition, registry, document.locate);
  if (issues.length > 0) throw new DeclaredWorkflowError(document.source, issues);
  const machine: AnyStateMachine = setup({
    actions: { requestEffect: () => undefined, ...registry.actions },
    guards: registry.guards,
    delays: registry.delays,
  } as never).createMachine({
    id: definition.id ?? definition.workflowType,
    initial: definition.initial,
    context: ({ input }: { input: never }) => registry.context(input),
    on: compileOn(definition.on, '.'),
    states: Object.fromEntries(Object.entries(definition.states).map(([name, state]) => [name, compileState(state, registry, declaredTaskLimits(definition, state))])),
  } as never) as unknown as AnyStateMachine;
  return {
    workflowType: definition.workflowType,
    machine,
    machineVersion: definition.version,
    startEventType: definition.start,
    events: Object.fromEntries(Object.entries(definition.events).map(([event, schema]) => [event, registry.schemas[schema]])),
    description: definition.description ?? null,
    budgets: definition.budgets,
    models: definition.models,
    outputs: Object.fromEntries(Object.entries(definition.states).flatMap(([name, state]) => (state.output === undefined ? [] : [[name, state.output]]))),
  };
}

/**
 * Parses, validates and compiles a declared workflow.
 *
 * @throws DeclaredWorkflowError as {@link parseDeclaredWorkflow} and {@link compileDeclaredWorkflow} do.
 */
export function loadDeclaredWorkflow(text: string, registry: DeclaredWorkflowRegistry, options: { source?: string } = {}): CompiledWorkflow {
  return compileDeclaredWorkflow(parseDeclaredWorkflow(text, options), registry);
}
