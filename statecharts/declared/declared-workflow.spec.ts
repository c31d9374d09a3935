import { describe, expect, it } from 'vitest';
import { assign, initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import { z } from 'zod';
import type { Email, Effect } from '@troupe/contracts';
import {
  DeclaredWorkflowError,
  compileDeclaredWorkflow,
  emailTriageMachine,
  loadDeclaredWorkflow,
  parseDeclaredWorkflow,
  type DeclaredWorkflowRegistry,
} from '@troupe/statecharts';

type Context = { workflowId: string; note: string | null };

const registry = {
  context: (input: { workflowId: string }) => ({ workflowId: input.workflowId, note: null }),
  actions: { recordNote: assign({ note: ({ event }: { event: { payload?: { note?: string } } }) => event.payload?.note ?? null }) },
  guards: { hasNote: ({ event }: { event: { payload?: { note?: string } } }) => (event.payload?.note ?? '') !== '' },
  delays: { waitLong: ({ context }: { context: Context }) => (context.workflowId.length > 0 ? 5_000 : 0) },
  effects: {
    askWriter: ({ context }: { context: Context }): Effect => ({ kind: 'agent.task', agent: 'writer', task: 'note.write', input: { id: context.workflowId } }),
    askFiler: ({ context }: { context: Context }): Effect => ({ kind: 'agent.task', agent: 'filer', task: 'note.file', input: { id: context.workflowId } }),
  },
  texts: { proposal: ({ context }: { context: Context }) => ({ note: context.note }), why: () => 'Check the note.' },
  schemas: { Started: z.object({}), Noted: z.object({ note: z.string() }), Decided: z.unknown() },
} as unknown as DeclaredWorkflowRegistry;

const VALID = `workflowType: note-taking
version: "1"
start: note.started
events:
  note.started: Started
  note.written: Noted
  approval.decided: Decided
initial: writing
states:
  writing:
    effects: [askWriter]
    output: { event: note.written, schema: Noted }
    on:
      note.written:
        - { guard: hasNote, target: review, actions: [recordNote] }
        - { target: failed }
  review:
    approval:
      gate: note-review
      allowedRoles: [approver]
      proposed: proposal
      reason: why
      timeout: { delay: waitLong, target: failed }
    on:
      approval.decided: done
  done: { type: final }
  failed: { type: final }
`;

function issuesOf(action: () => unknown) {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(DeclaredWorkflowError);
    return (error as DeclaredWorkflowError).issues;
  }
  throw new Error('expected a DeclaredWorkflowError');
}

describe('declared workflows', () => {
  it('compile a valid document to a machine that emits the named effects, gates with the approval tag and a named delay', () => {
    const compiled = loadDeclaredWorkflow(VALID, registry, { source: 'note.yaml' });
    expect(compiled).toMatchObject({ workflowType: 'note-taking', machineVersion: '1', startEventType: 'note.started', outputs: { writing: { event: 'note.written', schema: 'Noted' } } });
    const [start, startActions] = initialTransition(compiled.machine, { workflowId: 'n-1' } as never) as [AnyMachineSnapshot, Array<{ type: string; params?: unknown }>];
    expect(start.value).toBe('writing');
    expect(startActions.filter((a) => a.type === 'requestEffect').map((a) => a.params)).toEqual([{ kind: 'agent.task', agent: 'writer', task: 'note.write', input: { id: 'n-1' } }]);
    const [review, reviewActions] = transition(compiled.machine, start as never, { type: 'note.written', payload: { note: 'hello' } } as never) as unknown as [AnyMachineSnapshot, Array<{ type: string; params?: unknown }>];
    expect(review.value).toBe('review');
    expect(review.hasTag('approval')).toBe(true);
    expect(review.context).toEqual({ workflowId: 'n-1', note: 'hello' });
    expect(reviewActions.find((a) => a.type === 'requestEffect')?.params).toEqual({
      kind: 'approval.request',
      gateId: 'n-1:note-review',
      gate: 'note-review',
      proposed: { note: 'hello' },
      reason: 'Check the note.',
      allowedRoles: ['approver'],
    });
    expect(reviewActions).toContainEqual(expect.objectContaining({ type: 'xstate.raise', params: expect.objectContaining({ delay: 5_000 }) }));
    const [empty] = transition(compiled.machine, start as never, { type: 'note.written', payload: { note: '' } } as never) as unknown as [AnyMachineSnapshot];
    expect(empty.value).toBe('failed');
  });

  it('put the budgets and the state\u2019s model settings on every agent task, as data from the definition', () => {
    const text = VALID.replace(
      'initial: writing\n',
      'budgets: { maxCostUsd: 0.02, maxModelCalls: 3 }\nmodels:\n  writer: { purpose: write the note, temperature: 0.2, maxOutputTokens: 250 }\n  idle: { purpose: named by no state }\ninitial: writing\n',
    )
      .replace('output: { event: note.written, schema: Noted }', 'output: { event: note.written, schema: Noted, model: writer }')
      .replace('    effects: [askWriter]', '    effects: [askWriter, askFiler]');
    const compiled = loadDeclaredWorkflow(text, registry, { source: 'note.yaml' });
    const [start, startActions] = initialTransition(compiled.machine, { workflowId: 'n-2' } as never) as [AnyMachineSnapshot, Array<{ type: string; params?: unknown }>];
    const budget = { maxCostUsd: 0.02, maxModelCalls: 3 };
    expect(startActions.filter((a) => a.type === 'requestEffect').map((a) => a.params)).toEqual([
      { kind: 'agent.task', agent: 'writer', task: 'note.write', input: { id: 'n-2' }, limits: { budget, model: { temperature: 0.2, maxOutputTokens: 250 } } },
      { kind: 'agent.task', agent: 'filer', task: 'note.file', input: { id: 'n-2' }, limits: { budget, model: { temperature: 0.2, maxOutputTokens: 250 } } },
    ]);
    // The approval request is no agent task: unchanged.
    const [, reviewActions] = transition(compiled.machine, start as never, { type: 'note.written', payload: { note: 'hi' } } as never) as unknown as [AnyMachineSnapshot, Array<{ type: string; params?: unknown }>];
    expect(reviewActions.find((a) => a.type === 'requestEffect')?.params).not.toHaveProperty('limits');
    // A state whose output names no model: the budget only; a model without settings adds none.
    const unnamed = loadDeclaredWorkflow(text.replace(', model: writer }', ', model: idle }'), registry);
    const [, unnamedActions] = initialTransition(unnamed.machine, { workflowId: 'n-3' } as never) as [AnyMachineSnapshot, Array<{ type: string; params?: unknown }>];
    expect(unnamedActions.find((a) => a.type === 'requestEffect')?.params).toMatchObject({ limits: { budget } });
    expect((unnamedActions.find((a) => a.type === 'requestEffect')?.params as { limits: object }).limits).toEqual({ budget });
  });

  it('leave the tasks of a workflow that declares no budgets or models, and of a TypeScript-defined one, without limits', () => {
    const [, declaredActions] = initialTransition(loadDeclaredWorkflow(VALID, registry).machine, { workflowId: 'n-4' } as never) as [AnyMachineSnapshot, Array<{ type: string; params?: unknown }>];
    const email: Email = { messageId: '<1@x>', from: 'a@example.com', to: 'b@example.org', subject: 'Hi', date: null, text: 'Hello', headers: {}, origin: {} };
    const [, triageActions] = initialTransition(emailTriageMachine, { workflowId: 't-1', email, confidenceThreshold: 0.8, approvalTimeoutMs: 2_000, escalationTimeoutMs: 5_000 }) as unknown as [
      AnyMachineSnapshot,
      Array<{ type: string; params?: unknown }>,
    ];
    const tasks = [...declaredActions, ...triageActions].filter((a) => a.type === 'requestEffect').map((a) => a.params as Effect);
    expect(tasks.map((effect) => effect.kind)).toEqual(['agent.task', 'agent.task']);
    for (const effect of tasks) expect(effect).not.toHaveProperty('limits');
  });

  it('read JSON as well as YAML', () => {
    const json = JSON.stringify({ workflowType: 'tiny', version: '2', start: 'tiny.started', events: { 'tiny.started': 'Started' }, initial: 'over', states: { over: { type: 'final' } } });
    expect(loadDeclaredWorkflow(json, registry).machineVersion).toBe('2');
  });

  it('name the line and column of a YAML syntax error', () => {
    const issues = issuesOf(() => parseDeclaredWorkflow('workflowType: x\nstates: [a,\nversion: 1', { source: 'broken.yaml' }));
    expect(issues[0]).toMatchObject({ line: 3, column: 1, message: expect.stringContaining('Flow sequence') });
  });

  it('map a schema issue to its path and line, an unknown key to the key itself', () => {
    const text = VALID.replace('    effects: [askWriter]', '    effects: askWriter').replace('  done: { type: final }', '  done: { type: final, colour: blue }');
    const issues = issuesOf(() => parseDeclaredWorkflow(text, { source: 'note.yaml' }));
    expect(issues).toContainEqual(expect.objectContaining({ path: 'states.writing.effects', line: 11, column: 14 }));
    expect(issues).toContainEqual(expect.objectContaining({ path: 'states.done.colour', line: 26 }));
  });

  it('name every unknown guard, action, state, delay and event with its line, in one error', () => {
    const text = VALID.replace('guard: hasNote', 'guard: hasNotes')
      .replace('actions: [recordNote]', 'actions: [recordNotes]')
      .replace('- { target: failed }', '- { target: failure }')
      .replace('delay: waitLong', 'delay: waitForever')
      .replace('      approval.decided: done', '      approval.decidedd: done');
    const error = (() => {
      try {
        compileDeclaredWorkflow(parseDeclaredWorkflow(text, { source: 'note.yaml' }), registry);
      } catch (caught) {
        return caught as DeclaredWorkflowError;
      }
      throw new Error('expected a DeclaredWorkflowError');
    })();
    expect(error.issues.map((issue) => [issue.path, issue.line])).toEqual(
      expect.arrayContaining([
        ['states.writing.on.note.written.0.guard', 15],
        ['states.writing.on.note.written.0.actions.0', 15],
        ['states.writing.on.note.written.1.target', 16],
        ['states.review.approval.timeout.delay', 23],
        ['states.review.on.approval.decidedd', 25],
      ]),
    );
    expect(error.message).toContain('note.yaml:15:');
    expect(error.message).toContain('unknown guard "hasNotes"; the registry has hasNote');
    expect(error.retryable).toBe(false);
  });
});
