import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { answerClientErrorsWithProblems } from './client-errors';

let server: Server | null = null;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = null;
});

async function listening(): Promise<number> {
  server = createServer((_request, response) => response.end('ok'));
  answerClientErrorsWithProblems(server);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** Sends raw bytes and reads until the server closes the connection. */
function exchange(port: number, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(raw));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

function parse(answer: string): { statusLine: string; headers: string; body: unknown } {
  const [head, body] = answer.split('\r\n\r\n');
  const [statusLine, ...headers] = head.split('\r\n');
  return { statusLine, headers: headers.join('\n').toLowerCase(), body: JSON.parse(body) };
}

describe('answerClientErrorsWithProblems', () => {
  it('answers headers over the limit with 431 problem+json', async () => {
    const port = await listening();
    const answer = parse(await exchange(port, `GET /workflows HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`));
    expect(answer.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(answer.headers).toContain('content-type: application/problem+json');
    expect(answer.body).toMatchObject({ type: 'about:blank', status: 431, title: 'Request Header Fields Too Large' });
  });

  it('answers malformed HTTP with 400 problem+json naming the parser error', async () => {
    const port = await listening();
    const answer = parse(await exchange(port, 'NOT HTTP AT ALL\r\n\r\n'));
    expect(answer.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(answer.body).toMatchObject({ status: 400, detail: expect.stringMatching(/^the request could not be parsed \(HPE_/) });
  });

  it('leaves a well-formed request to the application', async () => {
    const port = await listening();
    const answer = await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(answer.startsWith('HTTP/1.1 200 OK')).toBe(true);
    expect(answer.endsWith('ok')).toBe(true);
  });
});
