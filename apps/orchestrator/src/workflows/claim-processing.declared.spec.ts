import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ActorRuntime } from '@troupe/actor-runtime';
import {
  AGENT_TASK_REQUESTED,
  TIMER_FIRED,
  claimSubmittedEnvelope,
  effectResultEventId,
  timerFiredEventId,
  type Claim,
  type ClaimDetails,
  type Envelope,
  type JournalEntry,
  type Role,
} from '@troupe/contracts';
import { VersionConflictError, type Journal, type OutboxMessage, type SnapshotStore, type WorkflowRecord } from '@troupe/persistence';
import {
  CLAIM_PROCESSING_BUDGETS,
  CLAIM_PROCESSING_MODELS,
  CLAIM_PROCESSING_REGISTRY,
  CLAIM_PROCESSING_WORKFLOW,
  loadDeclaredWorkflow,
  type WorkflowCatalogEntry,
} from '@troupe/statecharts';
import { CLAIM_PROCESSING_YAML_PATH, claimProcessingWorkflow, declaredClaimProcessing } from './claim-processing.workflow';

/** Test double: an in-memory snapshot store with the version precondition of the real ones. */
class InMemorySnapshotStore implements SnapshotStore {
  readonly records = new Map<string, WorkflowRecord>();
  async load(workflowId: string) {
    const record = this.records.get(workflowId);
    return record === undefined ? null : structuredClone(record);
  }
  async save(record: WorkflowRecord, expectedVersion: number) {
    const stored = this.records.get(record.workflowId);
    if ((stored?.version ?? 0) !== expectedVersion) throw new VersionConflictError(record.workflowId, expectedVersion, stored?.version ?? null);
    this.records.set(record.workflowId, structuredClone(record));
  }
  async list() {
    return { items: [...this.records.values()], nextCursor: null };
  }
}

/** Test double: an in-memory journal, idempotent on (workflowId, seq). */
class InMemoryJournal implements Journal {
  readonly entries: JournalEntry[] = [];
  async append(entry: JournalEntry) {
    if (!this.entries.some((e) => e.workflowId === entry.workflowId && e.seq === entry.seq)) this.entries.push(structuredClone(entry));
  }
  async read(workflowId: string) {
    return this.entries.filter((e) => e.workflowId === workflowId).sort((a, b) => a.seq - b.seq);
  }
}

const workflowId = 'claim-equivalence';
const settings = { reviewThresholdUsd: 10_000, reviewTimeoutMs: 172_800_000, escalationTimeoutMs: 172_800_000 };
const claim: Claim = {
  claimId: 'CLM-EQ-1',
  claimant: { name: 'Ada Okafor', email: 'ada.okafor@example.com' },
  text: 'SYNTHETIC CLAIM FORM\nPolicy number: POL-1\nType of claim: auto\nDate of incident: 2026-02-03\nAmount claimed: $1,200.00',
  origin: { corpus: 'test' },
};
const details = (amountUsd: number): ClaimDetails => ({
  policyNumber: 'POL-1',
  claimType: 'auto',
  incidentDate: '2026-02-03',
  amountUsd,
  injuries: false,
  policeReport: false,
  description: 'Rear-ended at a light.',
});

interface World {
  record: WorkflowRecord | null;
  published: OutboxMessage[];
}
type Step = (world: World) => Envelope;

const envelope = (id: string, type: string, payload: unknown, causationId: string | null): Envelope => ({
  id,
  type,
  workflowId,
  correlationId: workflowId,
  causationId,
  occurredAt: '2026-03-01T00:00:00.000Z',
  source: 'equivalence-spec',
  payload,
});

const submitted: Step = () => claimSubmittedEnvelope(workflowId, claim, { source: 'equivalence-spec', occurredAt: '2026-03-01T00:00:00.000Z' });

/** The result of the last agent task the workflow asked for. */
const result =
  (type: string, payload: unknown): Step =>
  ({ published }) => {
    const task = [...published].reverse().find((message) => message.envelope.type === AGENT_TASK_REQUESTED)!;
    return envelope(effectResultEventId(task.id), type, payload, task.id);
  };

let decisions = 0;
const decided =
  (gate: string, decision: 'approved' | 'rejected' | 'edited', roles: Role[], editedText: string | null = null): Step =>
  () => {
    decisions += 1;
    return envelope(`decision-${decisions}`, 'approval.decided', { gateId: `${workflowId}:${gate}`, decision, approver: { id: `person-${roles[0]}`, roles }, comment: null, editedText }, null);
  };

const timerFired: Step = ({ record }) => {
  const timer = record!.timers![0];
  return envelope(timerFiredEventId(timer.timerId), TIMER_FIRED, { timerId: timer.timerId, sendId: timer.sendId, dueAt: timer.dueAt, event: timer.event }, null);
};

const extracted = (amountUsd: number) => result('claim.extracted', { details: details(amountUsd), extractor: 'spec', usage: { model: 'spec/model', inputTokens: 10, outputTokens: 2 } });
const classified = (severity: 'low' | 'medium' | 'high') => result('claim.classified', { severity, reason: 'spec', classifier: 'spec' });
const letter = result('claim.letter_generated', { subject: 'Your claim', body: 'Dear Ada', writer: 'spec' });
const notified = result('claim.notified', { idempotencyKey: 'n', notifiedAt: '2026-03-01T00:00:00.000Z', firstDelivery: true });
const audited = result('claim.audited', { idempotencyKey: 'a', recordedAt: '2026-03-01T00:00:00.000Z', firstDelivery: true });
const tail = [letter, notified, audited];

/** One script per branch of the workflow. */
const SCRIPTS: Record<string, Step[]> = {
  'low severity, auto-approved': [submitted, extracted(1_200), classified('low'), ...tail],
  'medium, senior reviewer approves': [submitted, extracted(4_000), classified('medium'), result('claim.reviewed', { outcome: 'approved', approvedAmountUsd: 4_000, reason: 'covered', reviewer: 'spec' }), ...tail],
  'medium, senior reviewer declines': [submitted, extracted(4_000), classified('medium'), result('claim.reviewed', { outcome: 'rejected', approvedAmountUsd: 0, reason: 'excluded', reviewer: 'spec' }), ...tail],
  'high, a viewer is refused, an approver approves': [submitted, extracted(1_200), classified('high'), decided('claim-review', 'approved', ['viewer']), decided('claim-review', 'approved', ['approver']), ...tail],
  'over the threshold, edited amount': [submitted, extracted(25_000), classified('low'), decided('claim-review', 'edited', ['admin'], '20000'), ...tail],
  'high, rejected': [submitted, extracted(1_200), classified('high'), decided('claim-review', 'rejected', ['approver']), ...tail],
  'review deadline, manager approves': [submitted, extracted(1_200), classified('high'), timerFired, decided('claim-review-escalated', 'approved', ['approver']), decided('claim-review-escalated', 'approved', ['admin']), ...tail],
  'both deadlines, referred': [submitted, extracted(1_200), classified('high'), timerFired, timerFired, ...tail],
  'cancelled at the gate': [submitted, extracted(1_200), classified('high'), () => envelope('cancel-1', 'workflow.cancel_requested', { reason: 'duplicate', requestedBy: { id: 'ops', roles: ['operator'] } }, null)],
  'an effect fails': [submitted, () => envelope('failed-1', 'effect.failed', { effectId: `${workflowId}:1:0`, kind: 'agent.task', reason: 'unreadable form' }, null)],
};

/** Runs `script` through a real ActorRuntime hosting `entry`, with a clock that moves 1 s per reading. */
async function run(entry: WorkflowCatalogEntry, script: Step[]): Promise<{ journal: JournalEntry[]; published: OutboxMessage[]; record: WorkflowRecord }> {
  decisions = 0;
  const store = new InMemorySnapshotStore();
  const journal = new InMemoryJournal();
  const published: OutboxMessage[] = [];
  let tick = 0;
  const runtime = new ActorRuntime({
    definitions: [claimProcessingWorkflow(settings, entry)],
    store,
    journal,
    publish: async (message) => {
      published.push(structuredClone(message));
    },
    now: () => new Date(Date.UTC(2026, 2, 1) + 1_000 * tick++),
    idleMs: 0,
  });
  for (const step of script) await runtime.handle(step({ record: await store.load(workflowId), published }));
  return { journal: await journal.read(workflowId), published, record: (await store.load(workflowId))! };
}

describe('the declared (YAML) and TypeScript claim-processing workflows', () => {
  const declared = declaredClaimProcessing();

  it('compile from claim-processing.workflow.yaml with the catalog entry\u2019s type, version, start event and events', () => {
    expect(declared.workflowType).toBe(CLAIM_PROCESSING_WORKFLOW.workflowType);
    expect(declared.machineVersion).toBe(CLAIM_PROCESSING_WORKFLOW.machineVersion);
    expect(declared.startEventType).toBe(CLAIM_PROCESSING_WORKFLOW.startEventType);
    expect(declared.events).toEqual(CLAIM_PROCESSING_WORKFLOW.events);
  });

  it('declare the budgets and model settings the TypeScript form attaches to its tasks', () => {
    expect(declared.budgets).toEqual(CLAIM_PROCESSING_BUDGETS);
    const settings = Object.fromEntries(Object.entries(declared.models).map(([name, { temperature, maxOutputTokens }]) => [name, { temperature, maxOutputTokens }]));
    expect(settings).toEqual(CLAIM_PROCESSING_MODELS);
  });

  for (const [name, script] of Object.entries(SCRIPTS)) {
    it(`produce identical journals and outboxes: ${name}`, async () => {
      const typescript = await run(CLAIM_PROCESSING_WORKFLOW, script);
      const yaml = await run(declared, script);
      expect(typescript.journal).toHaveLength(script.length);
      expect(yaml.journal).toEqual(typescript.journal);
      expect(yaml.published).toEqual(typescript.published);
      // Every agent task leaves with the workflow's budget (both forms).
      const tasks = typescript.published.filter((message) => message.envelope.type === AGENT_TASK_REQUESTED);
      expect(tasks.length).toBeGreaterThan(0);
      for (const task of tasks) expect(task.envelope.payload).toMatchObject({ limits: { budget: CLAIM_PROCESSING_BUDGETS } });
      expect(yaml.record.snapshot).toEqual(typescript.record.snapshot);
      expect(typescript.record.status).toBe('done');
      expect(typescript.record.stateValue).toBe(name.startsWith('cancelled') ? 'cancelled' : name.startsWith('an effect fails') ? 'failed' : 'closed');
      const refusals = typescript.journal.filter((entry) => entry.rejection !== null).length;
      expect(refusals).toBe(name.includes('refused') ? 1 : name.includes('manager approves') ? 1 : 0);
    });
  }

  it('tell a changed declaration apart: a YAML whose medium claims go to the human gate journals differently', async () => {
    const text = readFileSync(CLAIM_PROCESSING_YAML_PATH, 'utf8').replace(
      '{ guard: { name: isSeverity, params: { severity: medium } }, target: seniorReview',
      '{ guard: { name: isSeverity, params: { severity: medium } }, target: humanReview',
    );
    const changed = loadDeclaredWorkflow(text, CLAIM_PROCESSING_REGISTRY, { source: 'changed.yaml' });
    const script = SCRIPTS['medium, senior reviewer approves'];
    const typescript = await run(CLAIM_PROCESSING_WORKFLOW, script);
    const yaml = await run(changed, script);
    expect(yaml.journal.map((entry) => entry.stateValue)).not.toEqual(typescript.journal.map((entry) => entry.stateValue));
    expect(yaml.journal).not.toEqual(typescript.journal);
  });
});
