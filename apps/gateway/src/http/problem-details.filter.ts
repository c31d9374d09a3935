import { STATUS_CODES } from 'node:http';
import { Catch, HttpException, HttpStatus, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';

/**
 * Answers every error as RFC 9457 problem details (`application/problem+json`): `type`, `title`,
 * `status`, `detail`, `instance`, plus `issues` for validation errors. Client errors raised by the body
 * parser keep their 4xx status (e.g. 413 for a body over the limit). Unexpected errors are logged and
 * answered as 500 without internals.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly log = new Logger(ProblemDetailsFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    const request = http.getRequest<Request>();
    let status = HttpStatus.INTERNAL_SERVER_ERROR;
    let title = 'Internal Server Error';
    let detail: string | undefined;
    let issues: string[] | undefined;
    if (exception instanceof HttpException) {
      status = exception.getStatus();
      const body = exception.getResponse();
      if (typeof body === 'object' && body !== null) {
        const fields = body as { title?: string; message?: string | string[]; issues?: string[]; error?: string };
        title = fields.title ?? fields.error ?? exception.name;
        detail = Array.isArray(fields.message) ? fields.message.join('; ') : fields.message;
        issues = fields.issues;
      } else {
        title = String(body);
      }
    } else if (isClientHttpError(exception)) {
      // body-parser's errors (http-errors: a body too large, a charset it cannot read) are the client's.
      status = exception.status;
      title = STATUS_CODES[status] ?? exception.name;
      detail = exception.message;
    } else {
      this.log.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    }
    response
      .status(status)
      .type('application/problem+json')
      .json({ type: 'about:blank', title, status, ...(detail !== undefined ? { detail } : {}), instance: request.originalUrl, ...(issues ? { issues } : {}) });
  }
}

/** An `http-errors` error meant for the client (body-parser raises these): a 4xx with `expose` set. */
function isClientHttpError(error: unknown): error is { status: number; name: string; message: string } {
  const candidate = error as { status?: unknown; expose?: unknown } | null;
  return typeof candidate?.status === 'number' && candidate.status >= 400 && candidate.status < 500 && candidate.expose === true;
}
