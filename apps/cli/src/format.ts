import type { JournalEntry, PendingApproval, StateValue } from '@troupe/contracts';
import type { ApprovalItem, DeadLetterItem, FeedChange, Problem, ReplayResult, ScheduleView, WorkflowDetail, WorkflowSummary } from './responses';

// Human-readable output of the CLI: plain text tables, no colours, widths in characters.

/** Longest cell printed in a table before it is cut with an ellipsis (characters). */
export const MAX_CELL_WIDTH = 60;

/** One line: newlines and tabs become spaces, and anything longer than `width` ends in `…`. */
export function cell(value: string, width = MAX_CELL_WIDTH): string {
  const flat = value.replace(/\s+/g, ' ').trim();
  return flat.length > width ? `${flat.slice(0, Math.max(0, width - 1))}…` : flat;
}

/**
 * A left-aligned table: a header row, a dashed rule, then the rows; columns two spaces apart, each as
 * wide as its widest cell (cells cut at {@link MAX_CELL_WIDTH}). No rows prints `(none)` under the header.
 */
export function renderTable(headers: string[], rows: string[][]): string {
  const cut = rows.map((row) => headers.map((_, column) => cell(row[column] ?? '')));
  const widths = headers.map((header, column) => Math.max(header.length, ...cut.map((row) => row[column].length)));
  const line = (cells: string[]) => cells.map((value, column) => (column === cells.length - 1 ? value : value.padEnd(widths[column]))).join('  ').trimEnd();
  const out = [line(headers), line(widths.map((width) => '-'.repeat(width)))];
  if (cut.length === 0) out.push('(none)');
  else for (const row of cut) out.push(line(row));
  return out.join('\n');
}

/** `key: value` lines, keys padded to the same width. */
export function renderFields(fields: Array<[string, string]>): string {
  const width = Math.max(...fields.map(([key]) => key.length));
  return fields.map(([key, value]) => `${`${key}:`.padEnd(width + 1)} ${value}`).join('\n');
}

/** A state value as text: a leaf name as is, a nested value as its dotted leaf paths joined by `, `. */
export function stateText(value: StateValue | null | undefined): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'string') return value;
  const paths: string[] = [];
  const walk = (node: StateValue, prefix: string) => {
    if (typeof node === 'string') paths.push(prefix + node);
    else for (const [key, child] of Object.entries(node)) walk(child, `${prefix}${key}.`);
  };
  walk(value, '');
  return paths.join(', ');
}

/** Tags as `key=value` separated by spaces (sorted by key). */
export function tagsText(tags: Record<string, string>): string {
  return Object.entries(tags)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
}

/** The text a human is asked to sign off: a drafted reply's body, else the proposal as JSON. */
export function proposedText(proposed: unknown): string {
  if (typeof proposed === 'string') return proposed;
  if (proposed !== null && typeof proposed === 'object' && typeof (proposed as { body?: unknown }).body === 'string') return (proposed as { body: string }).body;
  return JSON.stringify(proposed ?? null);
}

const cursorLine = (nextCursor: string | null) => (nextCursor ? `\nmore: --cursor ${nextCursor}` : '');

/** `troupe workflows list`. */
export function formatWorkflowList(items: WorkflowSummary[], nextCursor: string | null): string {
  const rows = items.map((item) => [
    item.workflowId,
    item.workflowType,
    stateText(item.stateValue),
    item.status,
    String(item.version),
    item.pendingApproval ? item.pendingApproval.gate : '',
    item.updatedAt,
  ]);
  return renderTable(['WORKFLOW', 'TYPE', 'STATE', 'STATUS', 'VERSION', 'PENDING', 'UPDATED'], rows) + cursorLine(nextCursor);
}

/** A gate's deadline for a person: `<deadlineAt> -> <onDeadline>`, the time alone, or `none`. */
export function deadlineText(approval: PendingApproval): string {
  if (approval.deadlineAt === null) return 'none';
  return approval.onDeadline === null ? approval.deadlineAt : `${approval.deadlineAt} -> ${approval.onDeadline}`;
}

/** A pending approval as `key: value` lines, with the proposal indented below. */
export function formatPendingApproval(approval: PendingApproval): string {
  const proposal = proposedText(approval.proposed)
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
  return `${renderFields([
    ['gate', `${approval.gate} (${approval.gateId})`],
    ['allowed', approval.allowedRoles.join(', ')],
    ['requested', approval.requestedAt],
    ['deadline', deadlineText(approval)],
    ['reason', approval.reason],
  ])}\nproposed:\n${proposal}`;
}

/** `troupe workflows show <id>`: the summary, the pending approval if any, and the journal. */
export function formatWorkflowDetail(detail: WorkflowDetail): string {
  const sections = [
    renderFields([
      ['workflow', detail.workflowId],
      ['type', detail.workflowType],
      ['state', stateText(detail.stateValue)],
      ['status', detail.status],
      ['version', String(detail.version)],
      ['tags', tagsText(detail.tags) || '-'],
      ['created', detail.createdAt],
      ['updated', detail.updatedAt],
      ['trace', detail.traceId ?? '-'],
    ]),
  ];
  if (detail.pendingApproval) sections.push(`Pending approval\n${formatPendingApproval(detail.pendingApproval)}`);
  sections.push(`Journal\n${formatJournal(detail.journal)}`);
  return sections.join('\n\n');
}

/** `troupe workflows events <id>`: one row per journal entry; a rejected event shows why. */
export function formatJournal(entries: JournalEntry[]): string {
  const rows = entries.map((entry) => [
    String(entry.seq),
    entry.appliedAt,
    entry.eventType,
    `${stateText(entry.fromStateValue)} -> ${stateText(entry.stateValue)}`,
    entry.effects.map((effect) => effect.kind).join(', '),
    entry.rejection === null ? '' : `rejected: ${entry.rejection}`,
  ]);
  return renderTable(['SEQ', 'APPLIED', 'EVENT', 'TRANSITION', 'EFFECTS', 'NOTE'], rows);
}

/** `troupe approvals list`. */
export function formatApprovals(items: ApprovalItem[], nextCursor: string | null): string {
  const rows = items.map((item) => [
    item.workflowId,
    item.pendingApproval.gate,
    stateText(item.stateValue),
    item.pendingApproval.allowedRoles.join(','),
    item.pendingApproval.requestedAt,
    item.pendingApproval.deadlineAt ?? '-',
    item.pendingApproval.onDeadline ?? '-',
    proposedText(item.pendingApproval.proposed),
  ]);
  return renderTable(['WORKFLOW', 'GATE', 'STATE', 'ALLOWED', 'REQUESTED', 'DEADLINE', 'ON DEADLINE', 'PROPOSED'], rows) + cursorLine(nextCursor);
}

/** `troupe dlq list`. */
export function formatDeadLetters(items: DeadLetterItem[], nextCursor: string | null): string {
  const rows = items.map((item) => [
    String(item.sequence),
    item.deadLetter.deadLetteredAt,
    item.deadLetter.origin.consumer ?? '-',
    item.deadLetter.origin.subject,
    String(item.deadLetter.deliveryCount),
    item.deadLetter.reason,
  ]);
  return renderTable(['SEQ', 'DEAD-LETTERED', 'CONSUMER', 'SUBJECT', 'DELIVERIES', 'REASON'], rows) + cursorLine(nextCursor);
}

/** Whether a schedule fires: `paused`, `ended` (no next tick, past `stopAt`) or `active`. */
export function scheduleState(schedule: ScheduleView): string {
  if (schedule.paused) return 'paused';
  return schedule.nextTick === null ? 'ended' : 'active';
}

/** `troupe schedules list`: one row per schedule; stored entries the gateway could not read are named below. */
export function formatSchedules(items: ScheduleView[], unreadable: string[]): string {
  const rows = items.map((item) => [
    item.scheduleId,
    item.cron,
    item.timezone,
    item.workflowType,
    scheduleState(item),
    item.nextTick ?? '-',
    String(item.firedCount),
    item.lastFiredTick ?? '-',
    item.lastError ?? '',
  ]);
  const table = renderTable(['SCHEDULE', 'CRON', 'TIMEZONE', 'TYPE', 'STATE', 'NEXT TICK', 'FIRED', 'LAST FIRED', 'LAST ERROR'], rows);
  return unreadable.length === 0 ? table : `${table}\nunreadable: ${unreadable.join(', ')}`;
}

/** `troupe schedules show|pause|resume <id>`: the schedule as `key: value` lines, its payload as JSON. */
export function formatSchedule(schedule: ScheduleView): string {
  return `${renderFields([
    ['schedule', schedule.scheduleId],
    ['state', scheduleState(schedule)],
    ['cron', `${schedule.cron} (${schedule.timezone})`],
    ['type', schedule.workflowType],
    ['next tick', schedule.nextTick === null ? '-' : `${schedule.nextTick} (starts ${schedule.nextWorkflowId ?? '-'})`],
    ['not before', schedule.notBefore],
    ['stop at', schedule.stopAt ?? '-'],
    ['fired', `${schedule.firedCount} (last ${schedule.lastFiredTick ?? '-'}), skipped ${schedule.skippedCount}`],
    ['last error', schedule.lastError ?? '-'],
    ['created', `${schedule.createdAt} by ${schedule.createdBy}`],
    ['updated', schedule.updatedAt],
  ])}\npayload:\n${JSON.stringify(schedule.payload, null, 2)}`;
}

/** `troupe workflows replay <id> --step N`: the rebuilt state, whether it matches the journal, and its context as JSON. */
export function formatReplay(replay: ReplayResult, requestedStep: number): string {
  const step = replay.step ?? requestedStep;
  const fields: Array<[string, string]> = [
    ['step', replay.lastStep === undefined ? String(step) : `${step} of ${replay.lastStep}`],
    ['state', stateText(replay.stateValue)],
  ];
  if (replay.status !== undefined) fields.push(['status', replay.status]);
  if (replay.machineVersion !== undefined) fields.push(['machine', String(replay.machineVersion)]);
  if (replay.matchesSnapshot !== undefined) fields.push(['matches', replay.matchesSnapshot ? 'yes: the rebuilt snapshot equals the journaled one' : 'NO: the rebuilt snapshot differs from the journaled one']);
  const lines = [renderFields(fields)];
  for (const mismatch of replay.mismatches ?? []) lines.push(`  mismatch: ${typeof mismatch === 'string' ? mismatch : JSON.stringify(mismatch)}`);
  if (replay.context !== undefined) lines.push(`context:\n${JSON.stringify(replay.context, null, 2)}`);
  return lines.join('\n');
}

/** One `workflow.changed` of `troupe tail` on one line. */
export function formatFeedChange(change: FeedChange, receivedAt: Date): string {
  const approval = change.pendingApproval;
  const pending = approval ? `  awaiting ${approval.gate}${approval.deadlineAt === null ? '' : ` until ${deadlineText(approval)}`}` : '';
  return `${receivedAt.toISOString()}  ${change.workflowId}  v${change.version}  ${change.eventType} -> ${stateText(change.stateValue)} (${change.status})${pending}`;
}

/** A problem for a person: status and title, the detail, each issue, and the request it answers. */
export function formatProblem(problem: Problem, method: string, url: string): string {
  const lines = [`error: ${problem.status} ${problem.title}`];
  if (problem.detail) lines.push(`  ${problem.detail}`);
  for (const issue of problem.issues ?? []) lines.push(`  - ${issue}`);
  if (problem.type && problem.type !== 'about:blank') lines.push(`  type: ${problem.type}`);
  lines.push(`  (${method} ${url})`);
  return lines.join('\n');
}
