import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KvWorkflowUsage } from '@troupe/agent-kit';
import { emailReceivedEnvelope, workflowEventSubject, type JournalEntry } from '@troupe/contracts';
import { corpusSplit, loadSpamAssassinCorpus, parseCorpusEmail } from '@troupe/email-corpus';
import { TEST_TELEMETRY_DIR_ENV, formatTraceParent, type MetricRecord, type SpanRecord } from '@troupe/telemetry';
import { pollJson, pollUntil, readLatestMetrics, readSpanRecords, startTroupeStack, type TroupeStack } from '@troupe/testing';

// The scripted model (a test double) answers every model call of one triage workflow, with token
// counts: the classifier's call through its model chain (in the triage workflow's agent task), the router's call
// (in the supervisor-routing actor it starts) and the drafter's run (a react-loop actor): its first
// call fails with a retryable 503 that the model chain retries, the retry asks for a tool
// (thread_lookup), the next model call answers.
const USAGE = {
  classify: { inputTokens: 80, outputTokens: 5 },
  route: { inputTokens: 120, outputTokens: 30 },
  lookup: { inputTokens: 150, outputTokens: 20 },
  draft: { inputTokens: 200, outputTokens: 60 },
};
const DRAFTER_RUN = { inputTokens: USAGE.lookup.inputTokens + USAGE.draft.inputTokens, outputTokens: USAGE.lookup.outputTokens + USAGE.draft.outputTokens };
const SCRIPT = {
  answers: {},
  // The classifier's and the supervisor's model chains and the drafter's agent run ask in plain text (no response-format name).
  answersBySystemPrompt: [
    { contains: 'spam filter of a personal inbox', answers: [{ text: '{"label":"ham","confidence":0.97}', ...USAGE.classify }] },
    { contains: 'supervisor of an inbox-triage team', answers: [{ text: '{"route":"draft_reply","confidence":0.95,"reason":"a personal question"}', ...USAGE.route }] },
    {
      contains: 'You draft email replies',
      answers: [
        { error: { message: 'scripted outage', statusCode: 503, retryable: true } },
        { toolCalls: [{ toolName: 'thread_lookup', input: { subject: 'an earlier message' } }], ...USAGE.lookup },
        { text: '{"body":"Thanks, I will get back to you. [confirm date]","reasoning":"a holding reply"}', ...USAGE.draft },
      ],
    },
  ],
};
const PRICE = { inputUsdPerMillionTokens: 1, outputUsdPerMillionTokens: 2 };
// The spans of the callers of the gateway (W3C traceparent headers): the client starting the workflow
// and the approver deciding it, each in its own trace.
const CALLER = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 };
const APPROVER = { traceId: '5c0a8e0f1b2d3c4e5f60718293a4b5c6', spanId: '1a2b3c4d5e6f7a8b', traceFlags: 1 };

interface WorkflowView {
  workflowType: string;
  stateValue: unknown;
  traceId: string | null;
  journal: JournalEntry[];
}

/** The text of a streamed body until it ends or its request is aborted. */
async function readAll(body: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  try {
    for await (const chunk of body) text += decoder.decode(chunk, { stream: true });
  } catch (error) {
    if ((error as Error).name !== 'AbortError') throw error;
  }
  return text;
}

/** The gateway's SERVER span of the request to `route` whose `url.path` is `path`. */
function serverSpan(spans: SpanRecord[], route: string, path: string): SpanRecord {
  const found = spans.filter((span) => span.service === 'troupe-gateway' && span.kind === 'SERVER' && span.attributes['http.route'] === route && span.attributes['url.path'] === path);
  expect(found, `${route} ${path}`).toHaveLength(1);
  return found[0];
}

describe('one OpenTelemetry trace per workflow across the apps (test-only span files)', () => {
  let stack: TroupeStack;
  let telemetryDir: string;
  let workflowId: string;
  let view: WorkflowView;
  let spans: SpanRecord[];
  /** The actors the triage workflow started: its supervisor-routing actor and the drafter's react-loop run. */
  let children: { supervision: WorkflowView & { workflowId: string }; run: WorkflowView & { workflowId: string } };
  let feed: AbortController;
  let feedText: Promise<string>;
  /** What the SSE feed sent until the test closed it. */
  let feedEvents: string;

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
    workflowId = 'triage-otel-0';
    // Started over HTTP by a caller with its own trace: the workflow's trace is the caller's.
    const { payload } = emailReceivedEnvelope(workflowId, await parseCorpusEmail(ham), { source: 'e2e-test', occurredAt: new Date().toISOString() });
    const started = await fetch(`${stack.gatewayUrl}/workflows`, {
      method: 'POST',
      headers: { ...stack.headers('operator'), 'content-type': 'application/json', traceparent: formatTraceParent(CALLER) },
      body: JSON.stringify({ workflowType: 'email-triage', workflowId, payload }),
    });
    expect(started.status, await started.clone().text()).toBe(202);
    // Probes and the API docs are not traced.
    expect((await fetch(`${stack.gatewayUrl}/health`)).status).toBe(200);
    expect((await fetch(`${stack.gatewayUrl}/docs-json`)).status).toBe(200);
    // A Server-Sent Events feed of the workflow, open for the whole run: one long request.
    feed = new AbortController();
    const feedResponse = await fetch(`${stack.gatewayUrl}/workflows/${workflowId}/feed`, { headers: stack.headers('viewer'), signal: feed.signal });
    expect(feedResponse.headers.get('content-type')).toContain('text/event-stream');
    feedText = readAll(feedResponse.body!);
    const waiting = await pollJson<WorkflowView>(`${stack.gatewayUrl}/workflows/${workflowId}`, (body) => body.stateValue === 'awaitingApproval', 60_000, stack.headers('viewer'));
    expect(waiting.stateValue, `logs in ${stack.logDir}`).toBe('awaitingApproval');
    const response = await fetch(`${stack.gatewayUrl}/workflows/${workflowId}/approvals`, {
      method: 'POST',
      headers: { ...stack.headers('approver'), 'content-type': 'application/json', traceparent: formatTraceParent(APPROVER) },
      body: JSON.stringify({ decision: 'approved' }),
    });
    expect(response.status).toBe(202);
    view = await pollJson<WorkflowView>(`${stack.gatewayUrl}/workflows/${workflowId}`, (body) => body.stateValue === 'sent', 60_000, stack.headers('viewer'));
    expect(view.stateValue, `logs in ${stack.logDir}`).toBe('sent');
    feed.abort();
    feedEvents = await feedText;
    // The last transition's span ends after its outbox is published: wait until it is on disk.
    spans = await pollUntil(
      () => readSpanRecords(telemetryDir),
      (all) =>
        all.some((span) => span.name === 'workflow.transition' && span.attributes['troupe.workflow.to_state'] === 'sent') &&
        all.some((span) => span.kind === 'SERVER' && span.attributes['http.route'] === '/workflows/:id/feed'),
    );
    // The stack ran this one workflow: every supervisor-routing and react-loop actor is one it started.
    const childOf = async (workflowType: string) => {
      const ids = new Set(spans.filter((span) => span.name === 'workflow.transition' && span.attributes['troupe.workflow.type'] === workflowType).map((span) => span.attributes['troupe.workflow.id'] as string));
      expect([...ids], `${workflowType} actors`).toHaveLength(1);
      const [childId] = ids;
      const response = await fetch(`${stack.gatewayUrl}/workflows/${childId}`, { headers: stack.headers('viewer') });
      expect(response.status).toBe(200);
      return { workflowId: childId, ...((await response.json()) as WorkflowView) };
    };
    children = { supervision: await childOf('supervisor-routing'), run: await childOf('react-loop') };
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('records the trace id in the snapshot record and journal and returns it over HTTP', () => {
    // The caller's trace: its traceparent header was continued by the gateway's request span.
    expect(view.traceId).toBe(CALLER.traceId);
    expect(view.journal.map((entry) => entry.traceId)).toEqual(view.journal.map(() => view.traceId));
  });

  it('continues the trace in the actors the workflow starts: their records and journals carry its trace id', () => {
    for (const child of [children.supervision, children.run]) {
      expect(child.stateValue, child.workflowId).toBe('done');
      expect(child.traceId, child.workflowId).toBe(view.traceId);
      expect(child.journal.length).toBeGreaterThanOrEqual(2);
      expect(child.journal.map((entry) => entry.traceId)).toEqual(child.journal.map(() => view.traceId));
    }
    expect(children.supervision.workflowType).toBe('supervisor-routing');
    expect(children.run.workflowType).toBe('react-loop');
  });

  it('puts every span of the workflow and of the actors it starts, from all four apps, in that one trace', () => {
    const ids = new Set([workflowId, children.supervision.workflowId, children.run.workflowId]);
    // The approver's request span names the workflow too, but is in the approver's trace (linked; see below).
    const ofWorkflow = spans.filter((span) => ids.has(span.attributes['troupe.workflow.id'] as string) && span.attributes['http.route'] !== '/workflows/:id/approvals');
    expect(ofWorkflow.length).toBeGreaterThan(40);
    expect(new Set(ofWorkflow.map((span) => span.traceId))).toEqual(new Set([view.traceId]));
    for (const id of ids) expect(ofWorkflow.some((span) => span.name === 'workflow.transition' && span.attributes['troupe.workflow.id'] === id), id).toBe(true);
    const trace = spans.filter((span) => span.traceId === view.traceId);
    expect(new Set(trace.map((span) => span.service))).toEqual(new Set(['troupe-orchestrator', 'troupe-supervisor', 'troupe-agents', 'troupe-gateway']));
    const transitionsOf = (id: string) =>
      trace.filter((span) => span.name === 'workflow.transition' && span.attributes['troupe.workflow.id'] === id).sort((a, b) => a.startTimeMs - b.startTimeMs);
    // Every transition span of the trace is a step of the workflow or of an actor it started.
    expect(trace.filter((span) => span.name === 'workflow.transition')).toHaveLength([...ids].reduce((sum, id) => sum + transitionsOf(id).length, 0));
    const transitions = transitionsOf(workflowId);
    expect(transitions.map((span) => span.attributes['troupe.workflow.to_state'])).toEqual(['classifying', 'routing', 'drafting', 'awaitingApproval', 'sending', 'sent']);
    expect(transitionsOf(children.supervision.workflowId).map((span) => span.attributes['troupe.workflow.to_state'])).toEqual(['deciding', 'done']);
    // The drafter's run: a model call that asks for a tool, the tool call, a model call that answers.
    const run = transitionsOf(children.run.workflowId);
    expect(run.map((span) => span.attributes['troupe.workflow.to_state'])).toEqual(['thinking', 'acting', 'thinking', 'done']);
    expect(run[0].attributes).toMatchObject({ 'troupe.workflow.type': 'react-loop', 'troupe.workflow.from_state': '(none)' });
    expect(transitions[0].attributes).toMatchObject({ 'troupe.workflow.type': 'email-triage', 'troupe.workflow.from_state': '(none)', 'troupe.event.type': 'email.received', 'troupe.workflow.version': 1 });
    expect(transitions[5].attributes).toMatchObject({ 'troupe.workflow.from_state': 'sending', 'troupe.event.type': 'reply.sent', 'troupe.workflow.version': 6 });
  });

  it('chains parent to child across NATS: producer spans in one app are parents of consumer spans in another', () => {
    const trace = spans.filter((span) => span.traceId === view.traceId);
    const byId = new Map(trace.map((span) => [span.spanId, span]));
    // The one span whose parent is not in the files: the gateway's request span, child of the caller's span.
    const roots = trace.filter((span) => span.parentSpanId === null || !byId.has(span.parentSpanId));
    expect(roots.map((span) => `${span.service} ${span.kind} ${span.name}`)).toEqual(['troupe-gateway SERVER POST /workflows']);
    expect(roots[0].parentSpanId).toBe(CALLER.spanId);

    const last = trace.find((span) => span.name === 'workflow.transition' && span.attributes['troupe.workflow.to_state'] === 'sent')!;
    const ancestry: SpanRecord[] = [];
    for (let span: SpanRecord | undefined = last; span !== undefined; span = span.parentSpanId === null ? undefined : byId.get(span.parentSpanId)) ancestry.push(span);
    expect(ancestry.at(-1)).toBe(roots[0]);
    const hops = ancestry.slice(0, -1).filter((child, index) => {
      const parent = ancestry[index + 1];
      return child.kind === 'CONSUMER' && parent.kind === 'PRODUCER' && child.service !== parent.service;
    });
    // gateway → orchestrator, agents ⇄ orchestrator, supervisor ⇄ orchestrator: every hop crosses NATS,
    // and the chain runs through the steps of the supervisor-routing and react-loop actors the workflow started.
    expect(hops.length).toBeGreaterThanOrEqual(8);
    const stepsOnTheWay = new Set(ancestry.filter((span) => span.name === 'workflow.transition').map((span) => span.attributes['troupe.workflow.type']));
    expect(stepsOnTheWay).toEqual(new Set(['email-triage', 'supervisor-routing', 'react-loop']));
    expect(new Set(ancestry.map((span) => span.service))).toEqual(new Set(['troupe-orchestrator', 'troupe-supervisor', 'troupe-agents', 'troupe-gateway']));
    for (const hop of hops) {
      expect(hop.attributes).toMatchObject({ 'messaging.system': 'nats', 'messaging.operation.type': 'process' });
      expect(byId.get(hop.parentSpanId!)?.attributes).toMatchObject({ 'messaging.system': 'nats', 'messaging.operation.type': 'send' });
    }
  });

  it("starts the workflow's trace at the gateway's SERVER span of POST /workflows, continuing the caller's traceparent", () => {
    const start = serverSpan(spans, '/workflows', '/workflows');
    expect(start).toMatchObject({ name: 'POST /workflows', traceId: CALLER.traceId, parentSpanId: CALLER.spanId, status: { code: 0 } });
    expect(start.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.response.status_code': 202, 'url.scheme': 'http', 'troupe.workflow.id': workflowId });
    // Its child: the start event's publish, continued by the orchestrator's first step.
    const [publish] = spans.filter((span) => span.parentSpanId === start.spanId);
    expect(publish).toMatchObject({ service: 'troupe-gateway', kind: 'PRODUCER', name: 'send troupe.wf.{partition}.{workflowId}.email.received', traceId: CALLER.traceId });
    const consumed = spans.filter((span) => span.parentSpanId === publish.spanId);
    expect(consumed.map((span) => `${span.service} ${span.kind}`)).toEqual(['troupe-orchestrator CONSUMER']);
    const firstStep = spans.find((span) => span.name === 'workflow.transition' && span.attributes['troupe.workflow.to_state'] === 'classifying');
    expect(firstStep?.parentSpanId).toBe(consumed[0].spanId);
  });

  it("continues the workflow's trace with the approver's decision, its request span in the approver's trace, linked both ways", () => {
    const decision = serverSpan(spans, '/workflows/:id/approvals', `/workflows/${workflowId}/approvals`);
    expect(decision).toMatchObject({ name: 'POST /workflows/:id/approvals', traceId: APPROVER.traceId, parentSpanId: APPROVER.spanId });
    expect(decision.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.response.status_code': 202, 'troupe.workflow.id': workflowId });
    const publish = spans.find((span) => span.kind === 'PRODUCER' && span.service === 'troupe-gateway' && span.attributes['troupe.event.type'] === 'approval.decided');
    expect(publish?.traceId).toBe(view.traceId);
    expect(publish?.links).toEqual([{ traceId: APPROVER.traceId, spanId: decision.spanId }]);
    // The request links to the step the decision continues: the one that reached awaitingApproval.
    const gate = spans.find((span) => span.name === 'workflow.transition' && span.attributes['troupe.workflow.to_state'] === 'awaitingApproval' && span.attributes['troupe.workflow.id'] === workflowId);
    expect(decision.links).toEqual([{ traceId: view.traceId, spanId: gate?.spanId }]);
    expect(publish?.parentSpanId).toBe(gate?.spanId);
  });

  it('traces the long-lived SSE feed as one request span that ends when the client leaves, outside the workflow trace', () => {
    expect(feedEvents).toContain('event: workflow.changed');
    // Event ids are WF_CHANGES stream sequences (resumable with Last-Event-ID); the data names the version.
    expect(feedEvents).toMatch(/^id: \d+$/m);
    expect(feedEvents).toMatch(new RegExp(`^data: \\{"workflowId":"${workflowId}".*"version":6[,}]`, 'm'));
    const request = serverSpan(spans, '/workflows/:id/feed', `/workflows/${workflowId}/feed`);
    expect(request).toMatchObject({ name: 'GET /workflows/:id/feed', parentSpanId: null });
    expect(request.attributes).toMatchObject({ 'http.request.method': 'GET', 'http.response.status_code': 200 });
    expect(request.traceId).not.toBe(view.traceId);
    expect(request.durationMs).toBeGreaterThan(0);
    expect(spans.filter((span) => span.parentSpanId === request.spanId)).toEqual([]);
  });

  it('traces no health probe or API docs request, and names every other gateway request span by its route', () => {
    const gateway = spans.filter((span) => span.service === 'troupe-gateway' && span.kind === 'SERVER');
    expect(gateway.filter((span) => /^\/(health|docs)/.test(String(span.attributes['url.path'])))).toEqual([]);
    for (const span of gateway) expect(span.name, String(span.attributes['url.path'])).toBe(`${span.attributes['http.request.method']} ${span.attributes['http.route']}`);
    expect(gateway.filter((span) => span.attributes['http.route'] === '/workflows/:id').length).toBeGreaterThanOrEqual(2);
  });

  it('marks the consume span of a dead-lettered message failed', () => {
    const poisoned = spans.find((span) => span.kind === 'CONSUMER' && span.attributes['messaging.destination.name'] === workflowEventSubject('otel-garbage'));
    expect(poisoned?.status.code).toBe(2);
    expect(poisoned?.attributes).toMatchObject({ 'error.type': 'SCHEMA_VALIDATION_FAILED', 'troupe.message.outcome': 'dead_letter' });
  });

  it('gives each model call a GenAI span with the scripted token counts, and the failed call an error.type', () => {
    const trace = spans.filter((span) => span.traceId === view.traceId);
    const byId = new Map(trace.map((span) => [span.spanId, span]));
    const parentOf = (span: SpanRecord) => byId.get(span.parentSpanId!);
    const calls = trace.filter((span) => span.attributes['gen_ai.operation.name'] === 'chat').sort((a, b) => a.startTimeMs - b.startTimeMs);
    expect(calls.map((span) => span.service)).toEqual(['troupe-agents', 'troupe-supervisor', 'troupe-agents', 'troupe-agents', 'troupe-agents']);
    for (const call of calls) {
      expect(call).toMatchObject({ name: 'chat scripted-model', kind: 'CLIENT' });
      expect(call.attributes).toMatchObject({ 'gen_ai.provider.name': 'scripted', 'gen_ai.request.model': 'scripted-model' });
    }
    const usage = (span: SpanRecord) => ({ inputTokens: span.attributes['gen_ai.usage.input_tokens'], outputTokens: span.attributes['gen_ai.usage.output_tokens'] });
    const [classify, route, failed, lookup, draft] = calls;
    // The classifier answers in the triage workflow's own agent task, in plain text (its model chain parses the JSON).
    expect(usage(classify)).toEqual(USAGE.classify);
    expect(classify.attributes['gen_ai.output.type']).toBe('text');
    expect(parentOf(classify)).toMatchObject({ name: 'effect agent.task', attributes: { 'troupe.workflow.id': workflowId } });
    // The router answers the supervisor-routing actor's decision task, in plain text.
    expect(usage(route)).toEqual(USAGE.route);
    expect(route.attributes['gen_ai.output.type']).toBe('text');
    expect(parentOf(route)).toMatchObject({ name: 'effect agent.task', attributes: { 'troupe.workflow.id': children.supervision.workflowId } });
    // The drafter's run asks in plain text, one model.call effect per step of the react-loop actor:
    // the first effect's call fails (503) and the model chain retries it within that effect.
    for (const call of [failed, lookup, draft]) {
      expect(call.attributes['gen_ai.output.type']).toBe('text');
      expect(parentOf(call)).toMatchObject({ name: 'effect model.call', attributes: { 'troupe.workflow.id': children.run.workflowId } });
    }
    expect(failed.status.code).toBe(2);
    expect(failed.attributes['error.type']).toBe('AI_APICallError');
    expect(failed.events.map((event) => event.name)).toContain('exception');
    expect(parentOf(lookup)).toBe(parentOf(failed));
    expect(parentOf(draft)).not.toBe(parentOf(failed));
    expect(usage(lookup)).toEqual(USAGE.lookup);
    expect(usage(draft)).toEqual(USAGE.draft);
    for (const call of [classify, route, lookup, draft]) expect(call.status.code, call.spanId).not.toBe(2);
  });

  it('traces the tool call the drafter asked for as an execute_tool span in the run', () => {
    const trace = spans.filter((span) => span.traceId === view.traceId);
    const byId = new Map(trace.map((span) => [span.spanId, span]));
    const tools = trace.filter((span) => span.attributes['gen_ai.operation.name'] === 'execute_tool');
    expect(tools).toHaveLength(1);
    expect(tools[0]).toMatchObject({ name: 'execute_tool thread_lookup', service: 'troupe-agents', attributes: { 'gen_ai.tool.name': 'thread_lookup' } });
    expect(tools[0].status.code).not.toBe(2);
    expect(tools[0].attributes['error.type']).toBeUndefined();
    expect(byId.get(tools[0].parentSpanId!)).toMatchObject({ name: 'effect tool.call', attributes: { 'troupe.workflow.id': children.run.workflowId } });
  });

  it('records metrics of completed workflows, steps, tokens and cost by model and workflow type', async () => {
    const find = (metrics: MetricRecord[], service: string, name: string, attributes: Record<string, unknown> = {}): MetricRecord | undefined =>
      metrics.find((metric) => metric.service === service && metric.name === name && Object.entries(attributes).every(([key, value]) => metric.attributes[key] === value));
    // Tokens and cost count for the workflow type whose actor asked (W3C baggage of the effect message).
    const tokens = (metrics: MetricRecord[], service: string, workflowType: string, tokenType: string) =>
      (find(metrics, service, 'gen_ai.client.token.usage', { 'gen_ai.token.type': tokenType, 'troupe.workflow.type': workflowType, 'gen_ai.request.model': 'scripted-model' })?.value as { sum: number } | undefined)
        ?.sum;
    const metrics = await pollUntil(
      () => readLatestMetrics(telemetryDir),
      (all) =>
        find(all, 'troupe-orchestrator', 'troupe.workflows.completed', { 'troupe.workflow.final_state': 'sent' }) !== undefined &&
        tokens(all, 'troupe-agents', 'react-loop', 'output') === DRAFTER_RUN.outputTokens &&
        tokens(all, 'troupe-supervisor', 'supervisor-routing', 'output') === USAGE.route.outputTokens &&
        find(all, 'troupe-gateway', 'http.server.request.duration', { 'http.route': '/workflows/:id/approvals' }) !== undefined,
    );
    for (const [workflowType, finalState] of [['email-triage', 'sent'], ['supervisor-routing', 'done'], ['react-loop', 'done']]) {
      expect(find(metrics, 'troupe-orchestrator', 'troupe.workflows.started', { 'troupe.workflow.type': workflowType })?.value, workflowType).toBe(1);
      expect(find(metrics, 'troupe-orchestrator', 'troupe.workflows.completed', { 'troupe.workflow.type': workflowType, 'troupe.workflow.final_state': finalState })?.value, workflowType).toBe(1);
    }
    expect(metrics.filter((metric) => metric.service === 'troupe-orchestrator' && metric.name === 'troupe.workflows.completed').map((metric) => metric.value)).toEqual([1, 1, 1]);
    expect(find(metrics, 'troupe-orchestrator', 'troupe.workflows.failed')).toBeUndefined();
    const steps = find(metrics, 'troupe-orchestrator', 'troupe.workflow.step.duration', { 'troupe.event.type': 'email.received', 'troupe.step.outcome': 'applied' });
    expect((steps?.value as { count: number }).count).toBe(1);
    expect(steps?.unit).toBe('s');
    expect(find(metrics, 'troupe-orchestrator', 'troupe.actor.cache.size')?.value).toBeGreaterThanOrEqual(1);
    expect(find(metrics, 'troupe-agents', 'troupe.consumer.lag', { 'messaging.consumer.group.name': 'agent-drafter' })?.value).toBe(0);
    expect(find(metrics, 'troupe-orchestrator', 'troupe.dead_letters', { 'troupe.dead_letter.origin': 'orchestrator', 'troupe.error.code': 'SCHEMA_VALIDATION_FAILED' })?.value).toBe(1);

    expect(tokens(metrics, 'troupe-agents', 'email-triage', 'input')).toBe(USAGE.classify.inputTokens);
    expect(tokens(metrics, 'troupe-agents', 'email-triage', 'output')).toBe(USAGE.classify.outputTokens);
    expect(tokens(metrics, 'troupe-agents', 'react-loop', 'input')).toBe(DRAFTER_RUN.inputTokens);
    expect(tokens(metrics, 'troupe-agents', 'react-loop', 'output')).toBe(DRAFTER_RUN.outputTokens);
    expect(tokens(metrics, 'troupe-supervisor', 'supervisor-routing', 'input')).toBe(USAGE.route.inputTokens);
    expect(tokens(metrics, 'troupe-supervisor', 'supervisor-routing', 'output')).toBe(USAGE.route.outputTokens);
    // No model call was counted under another workflow type than the actor that asked.
    expect(find(metrics, 'troupe-supervisor', 'gen_ai.client.token.usage', { 'troupe.workflow.type': 'email-triage' })).toBeUndefined();
    expect(find(metrics, 'troupe-agents', 'gen_ai.client.token.usage', { 'troupe.workflow.type': 'supervisor-routing' })).toBeUndefined();
    const cost = (service: string, workflowType: string) => find(metrics, service, 'troupe.model.cost', { 'troupe.workflow.type': workflowType, 'gen_ai.request.model': 'scripted-model' })?.value as number;
    const usd = (usage: { inputTokens: number; outputTokens: number }) => (usage.inputTokens * PRICE.inputUsdPerMillionTokens + usage.outputTokens * PRICE.outputUsdPerMillionTokens) / 1_000_000;
    expect(cost('troupe-agents', 'email-triage')).toBeCloseTo(usd(USAGE.classify), 12);
    expect(cost('troupe-agents', 'react-loop')).toBeCloseTo(usd(DRAFTER_RUN), 12);
    expect(cost('troupe-supervisor', 'supervisor-routing')).toBeCloseTo(usd(USAGE.route), 12);
    const failedCalls = find(metrics, 'troupe-agents', 'gen_ai.client.operation.duration', { 'error.type': 'AI_APICallError' });
    expect((failedCalls?.value as { count: number }).count).toBe(1);
    // instrumentation-http's duration metric (s) carries the route the gateway matched.
    const starts = find(metrics, 'troupe-gateway', 'http.server.request.duration', { 'http.request.method': 'POST', 'http.route': '/workflows', 'http.response.status_code': 202 });
    expect((starts?.value as { count: number } | undefined)?.count).toBe(1);
    expect(starts?.unit).toBe('s');
  });

  it("counts every model call made for the workflow in its budget: the classifier's, the router's and the drafter run's", async () => {
    const usage = await KvWorkflowUsage.open(stack.connection.jetstream());
    const spent = await usage.spent(workflowId);
    const all = [USAGE.classify, USAGE.route, DRAFTER_RUN];
    expect(spent.tokens).toBe(all.reduce((sum, call) => sum + call.inputTokens + call.outputTokens, 0));
    expect(spent.costUsd).toBeCloseTo(all.reduce((sum, call) => sum + (call.inputTokens * PRICE.inputUsdPerMillionTokens + call.outputTokens * PRICE.outputUsdPerMillionTokens) / 1_000_000, 0), 12);
    // One entry per call made for it: the classifier's task, the router's decision task (by effect id) and the run.
    expect(spent.runIds).toHaveLength(3);
    expect(spent.runIds).toContain(children.run.workflowId);
    expect(spent.runIds.some((id) => id.startsWith(`${children.supervision.workflowId}:`))).toBe(true);
    // Nothing was counted under the supervision's own id.
    expect((await usage.spent(children.supervision.workflowId)).tokens).toBe(0);
  });
});
