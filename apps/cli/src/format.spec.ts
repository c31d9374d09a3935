import { describe, expect, it } from 'vitest';
import type { JournalEntry } from '@troupe/contracts';
import {
  MAX_CELL_WIDTH,
  cell,
  formatApprovals,
  formatDeadLetters,
  formatFeedChange,
  formatJournal,
  formatProblem,
  formatReplay,
  formatWorkflowDetail,
  formatWorkflowList,
  proposedText,
  renderTable,
  stateText,
} from './format';
import type { WorkflowDetail, WorkflowSummary } from './responses';

const approval = {
  gateId: 'wf-1:reply-approval',
  gate: 'reply-approval',
  proposed: { to: 'a@example.org', subject: 'Re: hi', body: 'Thanks,\nwe will look.', reasoning: 'asked a question', drafter: 'template' },
  reason: 'asked a question',
  allowedRoles: ['approver' as const, 'admin' as const],
  requestedAt: '2026-12-01T08:00:00.000Z',
  deadlineAt: '2026-12-02T08:00:00.000Z',
  onDeadline: 'escalated',
};

const summary: WorkflowSummary = {
  workflowId: 'wf-1',
  workflowType: 'email-triage',
  machineVersion: '3',
  traceId: null,
  status: 'active',
  stateValue: 'awaitingApproval',
  statePaths: ['awaitingApproval'],
  version: 4,
  tags: { route: 'draft_reply', label: 'ham' },
  pendingApproval: approval,
  updatedAt: '2026-12-01T08:00:01.000Z',
};

const entry = (seq: number, eventType: string, from: string | null, to: string, rejection: string | null = null): JournalEntry => ({
  workflowId: 'wf-1',
  workflowType: 'email-triage',
  seq,
  eventId: `e${seq}`,
  eventType,
  event: {},
  fromStateValue: from,
  stateValue: to,
  status: 'active',
  effects: seq === 1 ? [{ id: 'x', kind: 'agent.task', subject: 'troupe.agent.classifier.task' }] : [],
  rejection,
  appliedAt: `2026-12-01T08:00:0${seq}.000Z`,
  traceId: null,
});

describe('renderTable', () => {
  it('aligns columns to the widest cell, two spaces apart, under a dashed rule', () => {
    expect(renderTable(['A', 'LONGER'], [['first', 'x'], ['b', 'yy']])).toBe(['A      LONGER', '-----  ------', 'first  x', 'b      yy'].join('\n'));
  });

  it('prints (none) under the header when there are no rows', () => {
    expect(renderTable(['ID'], []).split('\n')).toEqual(['ID', '--', '(none)']);
  });

  it('flattens newlines and cuts long cells with an ellipsis', () => {
    const long = 'word '.repeat(40);
    const cut = cell(long);
    expect(cut).toHaveLength(MAX_CELL_WIDTH);
    expect(cut.endsWith('…')).toBe(true);
    expect(cell('two\nlines')).toBe('two lines');
  });
});

describe('stateText', () => {
  it('prints a leaf as is and a nested value as its dotted leaf paths', () => {
    expect(stateText('sent')).toBe('sent');
    expect(stateText({ review: { legal: 'waiting', finance: 'done' } })).toBe('review.legal.waiting, review.finance.done');
    expect(stateText(null)).toBe('-');
  });
});

describe('proposedText', () => {
  it('shows a drafted reply by its body and anything else as JSON', () => {
    expect(proposedText(approval.proposed)).toBe('Thanks,\nwe will look.');
    expect(proposedText({ label: 'spam', confidence: 0.6 })).toBe('{"label":"spam","confidence":0.6}');
    expect(proposedText('plain')).toBe('plain');
  });
});

describe('workflow output', () => {
  it('lists workflows with state, status, version and pending gate, and says how to get the next page', () => {
    const text = formatWorkflowList([summary], 'c-2');
    const [header, , row, more] = text.split('\n');
    expect(header.split(/\s{2,}/)).toEqual(['WORKFLOW', 'TYPE', 'STATE', 'STATUS', 'VERSION', 'PENDING', 'UPDATED']);
    expect(row.split(/\s{2,}/)).toEqual(['wf-1', 'email-triage', 'awaitingApproval', 'active', '4', 'reply-approval', '2026-12-01T08:00:01.000Z']);
    expect(more).toBe('more: --cursor c-2');
    expect(formatWorkflowList([summary], null)).not.toContain('more:');
  });

  it('shows one workflow with sorted tags, its pending approval with the proposed text, and its journal', () => {
    const detail: WorkflowDetail = { ...summary, context: {}, createdAt: '2026-12-01T07:59:59.000Z', traceId: 'abc', journal: [entry(1, 'email.received', null, 'classifying')] };
    const text = formatWorkflowDetail(detail);
    expect(text).toContain('state:    awaitingApproval');
    expect(text).toContain('tags:     label=ham route=draft_reply');
    expect(text).toContain('Pending approval\ngate:      reply-approval (wf-1:reply-approval)');
    expect(text).toContain('allowed:   approver, admin');
    expect(text).toContain('deadline:  2026-12-02T08:00:00.000Z -> escalated');
    expect(text).toContain('proposed:\n  Thanks,\n  we will look.');
    expect(text).toContain('Journal\nSEQ');
  });

  it('prints the journal with transitions, effects and why an event was not applied', () => {
    const lines = formatJournal([entry(1, 'email.received', null, 'classifying'), entry(2, 'approval.decided', 'awaitingApproval', 'awaitingApproval', 'role viewer not allowed')]).split('\n');
    expect(lines[2].split(/\s{2,}/)).toEqual(['1', '2026-12-01T08:00:01.000Z', 'email.received', '- -> classifying', 'agent.task']);
    expect(lines[3]).toContain('awaitingApproval -> awaitingApproval');
    expect(lines[3]).toContain('rejected: role viewer not allowed');
  });
});

describe('approvals, dead letters and the feed', () => {
  it('lists pending approvals with gate, allowed roles and the proposed text', () => {
    const row = formatApprovals([{ workflowId: 'wf-1', workflowType: 'email-triage', stateValue: 'awaitingApproval', pendingApproval: approval, updatedAt: summary.updatedAt }], null).split('\n')[2];
    expect(row.split(/\s{2,}/)).toEqual(['wf-1', 'reply-approval', 'awaitingApproval', 'approver,admin', '2026-12-01T08:00:00.000Z', '2026-12-02T08:00:00.000Z', 'escalated', 'Thanks, we will look.']);
    const noDeadline = formatApprovals([{ workflowId: 'wf-2', workflowType: 'email-triage', stateValue: 'awaitingApproval', pendingApproval: { ...approval, deadlineAt: null, onDeadline: null }, updatedAt: summary.updatedAt }], null).split('\n')[2];
    expect(noDeadline.split(/\s{2,}/).slice(5, 7)).toEqual(['-', '-']);
  });

  it('lists dead letters with sequence, consumer, original subject, deliveries and reason', () => {
    const row = formatDeadLetters(
      [
        {
          sequence: 7,
          subject: 'troupe.dlq.orchestrator',
          deadLetter: {
            origin: { stream: 'WF_EVENTS', consumer: 'orchestrator-p3', subject: 'troupe.wf.3.wf-x', streamSequence: 12 },
            reason: 'message is not UTF-8 JSON',
            errorCode: 'SCHEMA',
            issues: [],
            deliveryCount: 1,
            headers: {},
            dataBase64: '',
            deadLetteredAt: '2026-12-01T08:00:00.000Z',
          },
        },
      ],
      null,
    ).split('\n')[2];
    expect(row.split(/\s{2,}/)).toEqual(['7', '2026-12-01T08:00:00.000Z', 'orchestrator-p3', 'troupe.wf.3.wf-x', '1', 'message is not UTF-8 JSON']);
  });

  it('prints one feed change per line with the event, the new state and a pending gate', () => {
    const line = formatFeedChange({ ...summary, eventType: 'reply.drafted' }, new Date('2026-12-01T08:00:02.000Z'));
    expect(line).toBe('2026-12-01T08:00:02.000Z  wf-1  v4  reply.drafted -> awaitingApproval (active)  awaiting reply-approval until 2026-12-02T08:00:00.000Z -> escalated');
  });
});

describe('formatProblem', () => {
  it('prints status, title, detail, each issue and the request', () => {
    const text = formatProblem(
      { type: 'about:blank', title: 'Invalid body', status: 400, detail: 'bad decision', instance: '/workflows/wf-1/approvals', issues: ['decision: Invalid option'] },
      'POST',
      'http://gw/workflows/wf-1/approvals',
    );
    expect(text.split('\n')).toEqual(['error: 400 Invalid body', '  bad decision', '  - decision: Invalid option', '  (POST http://gw/workflows/wf-1/approvals)']);
  });
});

describe('formatReplay', () => {
  it('prints the step of the last, the rebuilt state, whether it matches, each mismatch and the context', () => {
    const text = formatReplay(
      { workflowId: 'wf-1', step: 2, lastStep: 6, machineVersion: '3', stateValue: 'routing', status: 'active', context: { label: 'ham' }, matchesSnapshot: false, mismatches: ['context.label'] },
      2,
    );
    expect(text.split('\n')).toEqual([
      'step:    2 of 6',
      'state:   routing',
      'status:  active',
      'machine: 3',
      'matches: NO: the rebuilt snapshot differs from the journaled one',
      '  mismatch: context.label',
      'context:',
      '{',
      '  "label": "ham"',
      '}',
    ]);
  });

  it('prints what it can of a smaller body', () => {
    expect(formatReplay({ stateValue: 'sent' }, 4)).toBe('step:  4\nstate: sent');
  });
});
