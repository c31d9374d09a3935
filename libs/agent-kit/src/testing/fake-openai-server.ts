import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * How the fake provider answers one request, in order (the last one repeats):
 * - `{ content }` / `{ toolCalls }`: a chat-completions answer (with usage);
 * - `{ status, headers?, body? }`: an HTTP error (e.g. 429 with `retry-after`, 500);
 * - `'hang'`: never answers (the client's timeout must fire);
 * - `'malformed'`: 200 with a body that is not JSON.
 */
export type FakeReply =
  | { content: string; inputTokens?: number; outputTokens?: number }
  | { toolCalls: Array<{ id: string; name: string; arguments: unknown }>; inputTokens?: number; outputTokens?: number }
  | { status: number; headers?: Record<string, string>; body?: string }
  | 'hang'
  | 'malformed';

/** A local HTTP server on 127.0.0.1 speaking the OpenAI chat-completions wire format, scripted per request. */
export interface FakeOpenAiServer {
  /** `http://127.0.0.1:<port>/v1`, the base URL for `@ai-sdk/openai-compatible`. */
  baseUrl: string;
  /** Request bodies received, in order. */
  requests: Array<{ model: string; messages: unknown[]; tools?: unknown[] }>;
  close(): Promise<void>;
}

/** Starts a {@link FakeOpenAiServer} on a free port. */
export async function startFakeOpenAiServer(replies: readonly FakeReply[]): Promise<FakeOpenAiServer> {
  const requests: FakeOpenAiServer['requests'] = [];
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as FakeOpenAiServer['requests'][number];
      const reply = replies[Math.min(requests.length, replies.length - 1)];
      requests.push(body);
      if (reply === 'hang') {
        hanging.add(response);
        response.on('close', () => hanging.delete(response));
        return;
      }
      if (reply === 'malformed') {
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"chatcmpl-1","choices":[{"message":');
        return;
      }
      if ('status' in reply) {
        response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers }).end(reply.body ?? JSON.stringify({ error: { message: `status ${reply.status}`, type: 'server_error' } }));
        return;
      }
      const message =
        'content' in reply
          ? { role: 'assistant', content: reply.content }
          : {
              role: 'assistant',
              content: null,
              tool_calls: reply.toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: JSON.stringify(call.arguments) } })),
            };
      const inputTokens = reply.inputTokens ?? 50;
      const outputTokens = reply.outputTokens ?? 10;
      response.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: `chatcmpl-${requests.length}`,
          object: 'chat.completion',
          created: 1_700_000_000,
          model: body.model,
          choices: [{ index: 0, message, finish_reason: 'content' in reply ? 'stop' : 'tool_calls' }],
          usage: { prompt_tokens: inputTokens, completion_tokens: outputTokens, total_tokens: inputTokens + outputTokens },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: async () => {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A base URL where nothing listens (a port bound, then released): every call is refused. */
export async function refusedBaseUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/v1`;
}
