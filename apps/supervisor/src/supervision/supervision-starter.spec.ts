import type { JetStreamClient } from 'nats';
import { describe, expect, it } from 'vitest';
import { SchemaValidationError, decodeEnvelope, type AgentAdvertisement, type AgentTaskRequested, type Envelope } from '@troupe/contracts';
import { SpecialistNotAdvertisedError, SupervisionStarter } from './supervision-starter';

/** A JetStream client that records what is published. */
function recordingJetStream() {
  const published: Array<{ subject: string; envelope: Envelope; msgId: string | undefined }> = [];
  const js = {
    publish: async (subject: string, data: Uint8Array, options?: { msgID?: string }) => {
      published.push({ subject, envelope: decodeEnvelope(data), msgId: options?.msgID });
      return { stream: 'WF_EVENTS', seq: published.length, duplicate: false };
    },
  } as unknown as JetStreamClient;
  return { js, published };
}

const ad = (name: string, task: string, resultEventType: string): AgentAdvertisement => ({
  name,
  description: `the ${name}`,
  task,
  inputSchema: { type: 'object' },
  resultEventType,
  advertisedAt: '2026-12-01T09:00:00.000Z',
});
const advertised = [ad('summariser', 'email.summarise', 'email.summarised'), ad('drafter', 'reply.draft', 'reply.drafted'), ad('classifier', 'email.classify', 'email.classified')];
const email = { messageId: '<1@x>', from: 'a@x', to: 'b@x', subject: 's', date: null, text: 't', headers: {}, origin: {} };
const envelope = (task: AgentTaskRequested): Envelope => ({
  id: task.effectId,
  type: 'agent.task_requested',
  workflowId: 'wf-1',
  correlationId: 'wf-1',
  causationId: null,
  occurredAt: '2026-12-01T09:00:00.000Z',
  source: 'orchestrator',
  payload: task,
});

describe('SupervisionStarter', () => {
  it('starts a route supervision among the advertised triage specialists, once per task', async () => {
    const { js, published } = recordingJetStream();
    const starter = new SupervisionStarter({ js, advertisements: async () => advertised, confidenceThreshold: 0.6, joinTimeoutMs: 1_000, now: () => new Date(0) });
    const task: AgentTaskRequested = { effectId: 'wf-1:2:0', agent: 'supervisor', task: 'email.route', input: { email } };
    await starter.startRouting(envelope(task), task);
    expect(published).toHaveLength(1);
    const [{ subject, envelope: start, msgId }] = published;
    expect(start.id).toBe('sup-wf-1_2_0:requested');
    expect(msgId).toBe(start.id);
    expect(subject).toMatch(/^troupe\.wf\.\d+\.sup-wf-1_2_0\.supervision\.requested$/);
    expect(start).toMatchObject({ type: 'supervision.requested', workflowId: 'sup-wf-1_2_0', causationId: 'wf-1:2:0' });
    expect(start.payload).toMatchObject({
      parent: { workflowId: 'wf-1', effectId: 'wf-1:2:0', task: 'email.route' },
      mode: 'route',
      confidenceThreshold: 0.6,
      router: { agent: 'supervisor', task: 'route.decide' },
      resultEventType: 'email.routed',
      candidates: [
        { route: 'summarise', specialist: 'summariser', task: 'email.summarise', description: 'the summariser', resultEventType: 'email.summarised' },
        { route: 'draft_reply', specialist: 'drafter', task: 'reply.draft', description: 'the drafter', resultEventType: 'reply.drafted' },
      ],
    });
  });

  it("keeps a task's budget workflow in the supervision's parent, so a supervision started by a supervision counts against the root", async () => {
    const { js, published } = recordingJetStream();
    const starter = new SupervisionStarter({ js, advertisements: async () => advertised, confidenceThreshold: 0, joinTimeoutMs: 1_000 });
    const task: AgentTaskRequested = { effectId: 'wf-1:3:0', agent: 'supervisor', task: 'task.fan_out', input: { input: { email }, routes: ['summariser'] }, budgetWorkflowId: 'wf-root' };
    await starter.startFanOut(envelope(task), task);
    const plain: AgentTaskRequested = { effectId: 'wf-1:4:0', agent: 'supervisor', task: 'email.route', input: { email } };
    await starter.startRouting(envelope(plain), plain);
    expect(published.map((p) => (p.envelope.payload as { parent: unknown }).parent)).toEqual([
      { workflowId: 'wf-1', effectId: 'wf-1:3:0', task: 'task.fan_out', budgetWorkflowId: 'wf-root' },
      { workflowId: 'wf-1', effectId: 'wf-1:4:0', task: 'email.route' },
    ]);
  });

  it('waits (a retryable error) while a needed specialist has not advertised itself', async () => {
    const { js } = recordingJetStream();
    const starter = new SupervisionStarter({ js, advertisements: async () => [advertised[0]], confidenceThreshold: 0, joinTimeoutMs: 1_000 });
    const task: AgentTaskRequested = { effectId: 'wf-1:2:0', agent: 'supervisor', task: 'email.route', input: { email } };
    const error = await starter.startRouting(envelope(task), task).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SpecialistNotAdvertisedError);
    expect((error as SpecialistNotAdvertisedError).retryable).toBe(true);
  });

  it('starts a fan-out to the named specialists with its own join timeout, and rejects a bad fan-out input', async () => {
    const { js, published } = recordingJetStream();
    const starter = new SupervisionStarter({ js, advertisements: async () => advertised, confidenceThreshold: 0, joinTimeoutMs: 60_000 });
    const task: AgentTaskRequested = { effectId: 'wf-1:5:1', agent: 'supervisor', task: 'task.fan_out', input: { input: { email }, routes: ['summariser', 'classifier'], joinTimeoutMs: 2_000 } };
    await starter.startFanOut(envelope(task), task);
    expect(published[0].envelope.payload).toMatchObject({ mode: 'fan_out', fanOut: ['summariser', 'classifier'], joinTimeoutMs: 2_000, resultEventType: 'supervision.completed' });
    const bad: AgentTaskRequested = { ...task, input: { routes: [] } };
    await expect(starter.startFanOut(envelope(bad), bad)).rejects.toBeInstanceOf(SchemaValidationError);
  });
});
