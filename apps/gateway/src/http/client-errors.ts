import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';

/** The status Node's HTTP parser means by a client error code (as Node's own default answer picks it). */
function statusOf(code: string | undefined): number {
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  return 400;
}

/**
 * Answers the requests Node's HTTP parser refuses before any route sees them (headers over
 * `--max-http-header-size`, 16 KiB by default: 431; a request that timed out: 408; malformed HTTP: 400)
 * with RFC 9457 problem details, like every other error of the gateway, instead of Node's bare status
 * line; then closes the connection, as Node does (the parser cannot resynchronise). Follows Node's
 * documented `'clientError'` pattern: nothing is written to a socket that is already gone.
 */
export function answerClientErrorsWithProblems(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = statusOf(error.code);
    const title = STATUS_CODES[status] ?? 'Bad Request';
    const detail = status === 431 ? 'request headers exceed the server limit (16 KiB by default)' : `the request could not be parsed (${error.code ?? 'unknown error'})`;
    const body = JSON.stringify({ type: 'about:blank', title, status, detail });
    socket.end(
      `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
