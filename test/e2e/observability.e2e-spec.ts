import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workflowEventSubject, type JournalEntry } from '@troupe/contracts';
import { corpusSplit, loadSpamAssassinCorpus } from '@troupe/email-corpus';
import { TEST_TELEMETRY_DIR_ENV, type MetricRecord, type SpanRecord } from '@troupe/telemetry';
import { pollJson, pollUntil, publishEmails, readLatestMetrics, readSpanRecords, startTroupeStack, type TroupeStack } from '@troupe/testing';

// The scripted model (a test double) answers every model call of one triage workflow, with token
// counts, and fails the drafter's first call with a retryable 503 that the model chain retries.
const USAGE = {
  classify: { inputTokens: 80, outputTokens: 5 },
  route: { inputTokens: 120, outputTokens: 30 },
  draft: { inputTokens: 200, outputTokens: 60 },
};
const SCRIPT = {
  answers: {
    spam_classification: [{ text: '{"label":"ham","confidence":0.97}', ...USAGE.classify }],
  },
  // The supervisor's router and the drafter's agent run ask in plain text (no response-format name).
  answersBySystemPrompt: [
    { contains: 'supervisor of an inbox-triage team', answers: [{ text: '{"route":"draft_reply","confidence":0.95,"reason":"a personal question"}', ...USAGE.route }] },
    {
      contains: 'You draft email replies',
      answers: [
        { error: { message: 'scripted outage', statusCode: 503, retryable: true } },
        { text: '{"body":"Thanks, I will get back to you. [confirm date]","reasoning":"a holding reply"}', ...USAGE.draft },
      ],
    },
  ],
};
const PRICE = { inputUsdPerMillionTokens: 1, outputUsdPerMillionTokens: 2 };

interface WorkflowView {
  stateValue: unknown;
  traceId: string | null;
  journal: JournalEntry[];
}

describe('one OpenTelemetry trace per workflow across the apps (test-only span files)', () => {
  let stack: TroupeStack;
  let telemetryDir: string;
  let workflowId: string;
  let view: WorkflowView;
  let spans: SpanRecord[];

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'troupe-otel-e2e-'));
    telemetryDir = path.join(dir, 'telemetry');
    const scriptFile = path.join(dir, 'model-script.json');
    writeFileSync(scriptFile, JSON.stringify(SCRIPT));
    stack = await startTroupeStack({
      env: {
        [TEST_TELEMETRY_DIR_ENV]: telemetryDir,
        OTEL_METRIC_EXPORT_INTERVAL: '500',
        TROUPE_MODEL_PROVIDER: 'scripted-test-double',
        TROUPE_MODEL_SCRIPT_FILE: scriptFile,
        TROUPE_CLASSIFIER: 'model',
        TROUPE_MODEL_PRICES: JSON.stringify({ 'scripted-model': PRICE }),
      },
    });
    // A poison message, for the dead-letter metric and a failed consume span.
    await stack.connection.jetstream().publish(workflowEventSubject('otel-garbage'), new TextEncoder().encode('not json'));
    const ham = corpusSplit(loadSpamAssassinCorpus(), 'test').find((email) => email.label === 'ham')!;
    [workflowId] = await publishEmails(stack, 'otel', [ham]);
    const waiting = await pollJson<WorkflowView>(`${stack.gatewayUrl}/workflows/${workflowId}`, (body) => body.stateValue === 'awaitingApproval', 60_000, stack.headers('viewer'));
    expect(waiting.stateValue, `logs in ${stack.logDir}`).toBe('awaitingApproval');
    const response = await fetch(`${stack.gatewayUrl}/workflows/${workflowId}/approvals`, {
      method: 'POST',
      headers: { ...stack.headers('approver'), 'content-type': 'application/json' },
      body: JSON.stringify({ decision: 'approved' }),
    });
    expect(response.status).toBe(202);
    view = await pollJson<WorkflowView>(`${stack.gatewayUrl}/workflows/${workflowId}`, (body) => body.stateValue === 'sent', 60_000, stack.headers('viewer'));
    expect(view.stateValue, `logs in ${stack.logDir}`).toBe('sent');
    // The last transition's span ends after its outbox is published: wait until it is on disk.
    spans = await pollUntil(
      () => readSpanRecords(telemetryDir),
      (all) => all.some((span) => span.name === 'workflow.transition' && span.attributes['troupe.workflow.to_state'] === 'sent'),
    );
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('records the trace id in the snapshot record and journal and returns it over HTTP', () => {
    expect(view.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(view.journal.map((entry) => entry.traceId)).toEqual(view.journal.map(() => view.traceId));
  });

  it('puts every span of the workflow, from all four apps, in that one trace', () => {
    const ofWorkflow = spans.filter((span) => span.attributes['troupe.workflow.id'] === workflowId);
    expect(ofWorkflow.length).toBeGreaterThan(20);
    expect(new Set(ofWorkflow.map((span) => span.traceId))).toEqual(new Set([view.traceId]));
    const trace = spans.filter((span) => span.traceId === view.traceId);
    expect(new Set(trace.map((span) => span.service))).toEqual(new Set(['troupe-orchestrator', 'troupe-supervisor', 'troupe-agents', 'troupe-gateway']));
    const transitions = trace.filter((span) => span.name === 'workflow.transition').sort((a, b) => a.startTimeMs - b.startTimeMs);
    expect(transitions.map((span) => span.attributes['troupe.workflow.to_state'])).toEqual(['classifying', 'routing', 'drafting', 'awaitingApproval', 'sending', 'sent']);
    expect(transitions[0].attributes).toMatchObject({ 'troupe.workflow.type': 'email-triage', 'troupe.workflow.from_state': '(none)', 'troupe.event.type': 'email.received', 'troupe.workflow.version': 1 });
    expect(transitions[5].attributes).toMatchObject({ 'troupe.workflow.from_state': 'sending', 'troupe.event.type': 'reply.sent', 'troupe.workflow.version': 6 });
  });

  it('chains parent to child across NATS: producer spans in one app are parents of consumer spans in another', () => {
    const trace = spans.filter((span) => span.traceId === view.traceId);
    const byId = new Map(trace.map((span) => [span.spanId, span]));
    const roots = trace.filter((span) => span.parentSpanId === null);
    expect(roots).toHaveLength(1);
    for (const span of trace) if (span.parentSpanId !== null) expect(byId.has(span.parentSpanId), `parent of ${span.service} ${span.name}`).toBe(true);

    const last = trace.find((span) => span.name === 'workflow.transition' && span.attributes['troupe.workflow.to_state'] === 'sent')!;
    const ancestry: SpanRecord[] = [];
    for (let span: SpanRecord | undefined = last; span !== undefined; span = span.parentSpanId === null ? undefined : byId.get(span.parentSpanId)) ancestry.push(span);
    expect(ancestry.at(-1)).toBe(roots[0]);
    const hops = ancestry.slice(0, -1).filter((child, index) => {
      const parent = ancestry[index + 1];
      return child.kind === 'CONSUMER' && parent.kind === 'PRODUCER' && child.service !== parent.service;
    });
    // gateway → orchestrator, agents ⇄ orchestrator, supervisor ⇄ orchestrator: every hop crosses NATS.
    expect(hops.length).toBeGreaterThanOrEqual(8);
    expect(new Set(ancestry.map((span) => span.service))).toEqual(new Set(['troupe-orchestrator', 'troupe-supervisor', 'troupe-agents', 'troupe-gateway']));
    for (const hop of hops) {
      expect(hop.attributes).toMatchObject({ 'messaging.system': 'nats', 'messaging.operation.type': 'process' });
      expect(byId.get(hop.parentSpanId!)?.attributes).toMatchObject({ 'messaging.system': 'nats', 'messaging.operation.type': 'send' });
    }
  });

  it('marks the consume span of a dead-lettered message failed', () => {
    const poisoned = spans.find((span) => span.kind === 'CONSUMER' && span.attributes['messaging.destination.name'] === workflowEventSubject('otel-garbage'));
    expect(poisoned?.status.code).toBe(2);
    expect(poisoned?.attributes).toMatchObject({ 'error.type': 'SCHEMA_VALIDATION_FAILED', 'troupe.message.outcome': 'dead_letter' });
  });

  it('gives each model call a GenAI span with the scripted token counts, and the failed call an error.type', () => {
    const trace = spans.filter((span) => span.traceId === view.traceId);
    const byId = new Map(trace.map((span) => [span.spanId, span]));
    const calls = trace.filter((span) => span.attributes['gen_ai.operation.name'] === 'chat').sort((a, b) => a.startTimeMs - b.startTimeMs);
    expect(calls.map((span) => span.service)).toEqual(['troupe-agents', 'troupe-supervisor', 'troupe-agents', 'troupe-agents']);
    for (const call of calls) {
      expect(call).toMatchObject({ name: 'chat scripted-model', kind: 'CLIENT' });
      expect(call.attributes).toMatchObject({ 'gen_ai.provider.name': 'scripted', 'gen_ai.request.model': 'scripted-model', 'gen_ai.output.type': 'json' });
      expect(byId.get(call.parentSpanId!)?.name).toBe('effect agent.task');
    }
    const usage = (span: SpanRecord) => ({ inputTokens: span.attributes['gen_ai.usage.input_tokens'], outputTokens: span.attributes['gen_ai.usage.output_tokens'] });
    expect(usage(calls[0])).toEqual(USAGE.classify);
    expect(usage(calls[1])).toEqual(USAGE.route);
    const [failed, retried] = [calls[2], calls[3]];
    expect(failed.status.code).toBe(2);
    expect(failed.attributes['error.type']).toBe('AI_APICallError');
    expect(failed.events.map((event) => event.name)).toContain('exception');
    expect(usage(retried)).toEqual(USAGE.draft);
    expect(retried.status.code).not.toBe(2);
  });

  it('records metrics of completed workflows, steps, tokens and cost by model and workflow type', async () => {
    const find = (metrics: MetricRecord[], service: string, name: string, attributes: Record<string, unknown> = {}): MetricRecord | undefined =>
      metrics.find((metric) => metric.service === service && metric.name === name && Object.entries(attributes).every(([key, value]) => metric.attributes[key] === value));
    const tokens = (metrics: MetricRecord[], service: string, tokenType: string) =>
      (find(metrics, service, 'gen_ai.client.token.usage', { 'gen_ai.token.type': tokenType, 'troupe.workflow.type': 'email-triage', 'gen_ai.request.model': 'scripted-model' })?.value as { sum: number } | undefined)?.sum;
    const metrics = await pollUntil(
      () => readLatestMetrics(telemetryDir),
      (all) => find(all, 'troupe-orchestrator', 'troupe.workflows.completed', { 'troupe.workflow.final_state': 'sent' }) !== undefined && tokens(all, 'troupe-agents', 'output') === USAGE.classify.outputTokens + USAGE.draft.outputTokens,
    );
    expect(find(metrics, 'troupe-orchestrator', 'troupe.workflows.started', { 'troupe.workflow.type': 'email-triage' })?.value).toBe(1);
    expect(find(metrics, 'troupe-orchestrator', 'troupe.workflows.completed', { 'troupe.workflow.type': 'email-triage', 'troupe.workflow.final_state': 'sent' })?.value).toBe(1);
    expect(find(metrics, 'troupe-orchestrator', 'troupe.workflows.failed')).toBeUndefined();
    const steps = find(metrics, 'troupe-orchestrator', 'troupe.workflow.step.duration', { 'troupe.event.type': 'email.received', 'troupe.step.outcome': 'applied' });
    expect((steps?.value as { count: number }).count).toBe(1);
    expect(steps?.unit).toBe('s');
    expect(find(metrics, 'troupe-orchestrator', 'troupe.actor.cache.size')?.value).toBeGreaterThanOrEqual(1);
    expect(find(metrics, 'troupe-agents', 'troupe.consumer.lag', { 'messaging.consumer.group.name': 'agent-drafter' })?.value).toBe(0);
    expect(find(metrics, 'troupe-orchestrator', 'troupe.dead_letters', { 'troupe.dead_letter.origin': 'orchestrator', 'troupe.error.code': 'SCHEMA_VALIDATION_FAILED' })?.value).toBe(1);

    expect(tokens(metrics, 'troupe-agents', 'input')).toBe(USAGE.classify.inputTokens + USAGE.draft.inputTokens);
    expect(tokens(metrics, 'troupe-agents', 'output')).toBe(USAGE.classify.outputTokens + USAGE.draft.outputTokens);
    expect(tokens(metrics, 'troupe-supervisor', 'input')).toBe(USAGE.route.inputTokens);
    expect(tokens(metrics, 'troupe-supervisor', 'output')).toBe(USAGE.route.outputTokens);
    const cost = (service: string) => find(metrics, service, 'troupe.model.cost', { 'troupe.workflow.type': 'email-triage', 'gen_ai.request.model': 'scripted-model' })?.value as number;
    const usd = (usage: { inputTokens: number; outputTokens: number }) => (usage.inputTokens * PRICE.inputUsdPerMillionTokens + usage.outputTokens * PRICE.outputUsdPerMillionTokens) / 1_000_000;
    expect(cost('troupe-agents')).toBeCloseTo(usd(USAGE.classify) + usd(USAGE.draft), 12);
    expect(cost('troupe-supervisor')).toBeCloseTo(usd(USAGE.route), 12);
    const failedCalls = find(metrics, 'troupe-agents', 'gen_ai.client.operation.duration', { 'error.type': 'AI_APICallError' });
    expect((failedCalls?.value as { count: number }).count).toBe(1);
  });
});
