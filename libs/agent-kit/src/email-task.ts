import { runEffect, type EffectResult, type JetStreamContext } from '@troupe/bus';
import { AgentTaskRequested, EmailTaskInput, parseOrThrow, type Email, type Envelope } from '@troupe/contracts';
import type { JetStreamClient } from 'nats';

/**
 * Handles one agent task whose input is an email (every triage agent and the supervisor's routing): validates the task and its email input at the edge (a failure is
 * dead-lettered by the transport), runs `work` with the email and the parsed task (its `effectId` is the
 * idempotency key), and publishes the result into the workflow.
 */
export async function handleEmailTask(
  js: JetStreamClient,
  envelope: Envelope,
  context: JetStreamContext,
  source: string,
  work: (email: Email, task: AgentTaskRequested) => Promise<EffectResult>,
): Promise<'completed' | 'failed'> {
  const task = parseOrThrow(AgentTaskRequested, envelope.payload, `${envelope.type} payload`);
  const { email } = parseOrThrow(EmailTaskInput, task.input, `${task.agent} task input`);
  return runEffect(js, { envelope, context, effectId: task.effectId, kind: 'agent.task', source }, () => work(email, task));
}
