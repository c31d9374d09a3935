import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REACT_LOOP, agentRunId, type Envelope, type ModelResponded } from '@troupe/contracts';
import { corpusSplit, loadSpamAssassinCorpus } from '@troupe/email-corpus';
import { createPersistence, type Persistence } from '@troupe/persistence';
import { publishEmails, startTroupeStack, type TroupeStack } from '@troupe/testing';

// The agents process is SIGKILLed in the middle of a drafter's ReAct loop: after its first step (a model
// call asking for two tools, both run and journaled) while its second model call is in flight. The
// restarted process resumes at that model call; the completed step is not repeated.

interface ChatRequest {
  model: string;
  messages: Array<{ role: string; content: string | null }>;
}

/** A local OpenAI-compatible provider that answers each agent by its system prompt. */
class FakeProvider {
  readonly requests: ChatRequest[] = [];
  /** While true, a drafter's second model call (after its tool results) never gets an answer. */
  holdSecondSteps = true;
  heldSecondSteps = 0;
  private server: Server | null = null;

  async start(): Promise<string> {
    this.server = createServer((request: IncomingMessage, response: ServerResponse) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => this.answer(JSON.parse(body) as ChatRequest, response));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  private answer(request: ChatRequest, response: ServerResponse): void {
    this.requests.push(request);
    const system = request.messages.find((m) => m.role === 'system')?.content ?? '';
    const afterTools = request.messages.some((m) => m.role === 'tool');
    const reply = (message: Record<string, unknown>): void => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: `chatcmpl-${this.requests.length}`,
          object: 'chat.completion',
          created: 1_700_000_000,
          model: request.model,
          choices: [{ index: 0, message, finish_reason: 'tool_calls' in message ? 'tool_calls' : 'stop' }],
          usage: { prompt_tokens: 300, completion_tokens: 40, total_tokens: 340 },
        }),
      );
    };
    const content = (value: unknown): void => reply({ role: 'assistant', content: JSON.stringify(value) });
    if (/supervisor of an inbox-triage team/.test(system)) return content({ route: 'draft_reply', confidence: 0.9, reason: 'a person writes' });
    if (/draft email replies/.test(system)) {
      if (!afterTools) {
        return reply({
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: `history-${this.requests.length}`, type: 'function', function: { name: 'sender_history', arguments: JSON.stringify({ from: 'someone@example.org' }) } },
            { id: `thread-${this.requests.length}`, type: 'function', function: { name: 'thread_lookup', arguments: JSON.stringify({ subject: 'hello' }) } },
          ],
        });
      }
      if (this.holdSecondSteps) {
        this.heldSecondSteps += 1;
        return; // never answered: the agents process dies with this call in flight
      }
      return content({ body: 'Hello, thank you for your message.', reasoning: 'The history and thread were looked up.' });
    }
    if (/summarise/.test(system)) return content({ summary: 'A summary.' });
    return content({ reason: 'spam', senderMessageCount: null });
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server === null ? resolve() : this.server.close(() => resolve())));
  }
}

/** Polls `check` every 200 ms until it returns a value, or fails after `timeoutMs`. */
async function eventually<T>(check: () => Promise<T | null | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('the agents process killed with SIGKILL in the middle of a ReAct loop', () => {
  const provider = new FakeProvider();
  let stack: TroupeStack;
  let persistence: Persistence;

  beforeAll(async () => {
    const baseUrl = await provider.start();
    stack = await startTroupeStack({
      env: {
        TROUPE_MODEL_PROVIDER: 'openai-compatible',
        TROUPE_MODEL_NAME: 'fake-model',
        TROUPE_MODEL_BASE_URL: baseUrl,
        // Longer than the test waits, so the held call is cut by the kill, not by a timeout.
        TROUPE_MODEL_TIMEOUT_MS: '600000',
      },
    });
    persistence = await createPersistence({ nats: stack.connection });
  });

  afterAll(async () => {
    await persistence?.close();
    await stack?.stop();
    await provider.stop();
  });

  it('resumes at the model call in flight and does not repeat the completed step', async () => {
    const ham = corpusSplit(loadSpamAssassinCorpus(), 'test').filter((email) => email.label === 'ham').slice(0, 6);
    const workflowIds = await publishEmails(stack, 'agent-crash', ham);

    // Wait for a drafter run whose tools both completed and whose second model call is held.
    const drafterRun = await eventually(async () => {
      if (provider.heldSecondSteps === 0) return null;
      for (const workflowId of workflowIds) {
        for (const entry of await persistence.journal.read(workflowId)) {
          for (const effect of entry.effects.filter((e) => e.kind === 'agent.task')) {
            const runId = agentRunId(effect.id);
            const run = await persistence.snapshots.load(runId);
            if (run?.workflowType !== REACT_LOOP) continue;
            const journal = await persistence.journal.read(runId);
            if (journal.filter((e) => e.eventType === 'tool.responded' && e.rejection === null).length === 2) return run;
          }
        }
      }
      return null;
    }, 120_000);
    const messageId = (drafterRun.snapshot as { context: { input: { email: { messageId: string } } } }).context.input.email.messageId;
    const requestsOfRun = (afterTools: boolean) =>
      provider.requests.filter(
        (r) =>
          /draft email replies/.test(r.messages[0]?.content ?? '') &&
          r.messages.some((m) => m.role === 'user' && (m.content ?? '').includes(messageId)) &&
          r.messages.some((m) => m.role === 'tool') === afterTools,
      ).length;
    expect(requestsOfRun(false)).toBe(1);

    await stack.apps.get('agents')!.stop('SIGKILL');
    provider.holdSecondSteps = false;
    await stack.start('agents');

    await eventually(async () => {
      const record = await persistence.snapshots.load(drafterRun.workflowId);
      return record?.status === 'done' ? record : null;
    }, 120_000);
    const journal = (await persistence.journal.read(drafterRun.workflowId)).filter((entry) => entry.rejection === null);
    expect(journal.map((entry) => entry.eventType)).toEqual(['agent.run_requested', 'model.responded', 'tool.responded', 'tool.responded', 'model.responded']);
    expect(journal.map((entry) => entry.stateValue)).toEqual(['thinking', 'acting', 'acting', 'thinking', 'done']);
    const steps = journal.filter((entry) => entry.eventType === 'model.responded').map((entry) => ((entry.event as Envelope).payload as ModelResponded).step);
    expect(steps).toEqual([0, 1]);
    // The completed first step was not asked again; the call in flight at the kill was (after its redelivery).
    expect(requestsOfRun(false)).toBe(1);
    expect(requestsOfRun(true)).toBe(2);
    const parentId = (drafterRun.snapshot as { context: { parent: { workflowId: string } } }).context.parent.workflowId;
    await eventually(async () => ((await persistence.snapshots.load(parentId))?.pendingApproval?.gate === 'reply-approval' ? true : null), 60_000);
  });
});
