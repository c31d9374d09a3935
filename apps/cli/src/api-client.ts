import type { z } from 'zod';
import { formatIssues } from '@troupe/contracts';
import { Problem } from './responses';

/** Where the CLI talks to and as whom. */
export interface ApiConfig {
  /** Base URL of the gateway, e.g. `http://127.0.0.1:3000` (no trailing slash needed). */
  url: string;
  /** Sent as `X-Api-Key` when set. */
  apiKey?: string;
  /** Sent as `Authorization: Bearer <token>` when set (and no API key is). */
  token?: string;
}

/** The default gateway URL when neither `--url` nor `TROUPE_API_URL` is given. */
export const DEFAULT_API_URL = 'http://127.0.0.1:3000';

/**
 * The configuration from flags first, then `TROUPE_API_URL`, `TROUPE_API_KEY`, `TROUPE_TOKEN`, then
 * the default URL. Empty strings count as unset.
 */
export function resolveApiConfig(flags: { url?: string; apiKey?: string; token?: string }, env: NodeJS.ProcessEnv): ApiConfig {
  const pick = (...values: Array<string | undefined>) => values.find((value) => value !== undefined && value !== '');
  return {
    url: (pick(flags.url, env.TROUPE_API_URL) ?? DEFAULT_API_URL).replace(/\/+$/, ''),
    apiKey: pick(flags.apiKey, env.TROUPE_API_KEY),
    token: pick(flags.token, env.TROUPE_TOKEN),
  };
}

/** The gateway answered with an error status; `problem` is its RFC 9457 body (or one made from the status). */
export class ApiProblemError extends Error {
  override readonly name = 'ApiProblemError';
  constructor(
    readonly problem: Problem,
    readonly method: string,
    readonly url: string,
  ) {
    super(`${problem.status} ${problem.title}${problem.detail ? `: ${problem.detail}` : ''}`);
  }
}

/** The gateway could not be reached, or answered something the CLI cannot read. */
export class ApiTransportError extends Error {
  override readonly name = 'ApiTransportError';
}

/** A parsed JSON response: `body` validated by the schema, `raw` exactly as the server sent it. */
export interface ApiResponse<T> {
  status: number;
  body: T;
  raw: unknown;
}

/** HTTP client of the gateway's API with the configured credential on every request. */
export class ApiClient {
  constructor(
    readonly config: ApiConfig,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  /** Headers with the credential: `X-Api-Key` if configured, else `Authorization: Bearer`. */
  headers(extra: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json', ...extra };
    if (this.config.apiKey) headers['x-api-key'] = this.config.apiKey;
    else if (this.config.token) headers.authorization = `Bearer ${this.config.token}`;
    return headers;
  }

  /** An absolute URL for `path` with the query parameters that are set. */
  urlFor(path: string, query: Record<string, string | number | undefined> = {}): string {
    const url = new URL(this.config.url + path);
    for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== '') url.searchParams.set(key, String(value));
    return url.toString();
  }

  /**
   * `method path` with an optional JSON body; parses the answer with `schema`.
   *
   * @throws ApiProblemError on a status of 400 or above; ApiTransportError when the gateway is unreachable
   *   or the body is not JSON of the expected shape.
   */
  async request<T>(
    method: 'GET' | 'POST',
    path: string,
    schema: z.ZodType<T>,
    options: { query?: Record<string, string | number | undefined>; body?: unknown } = {},
  ): Promise<ApiResponse<T>> {
    const url = this.urlFor(path, options.query);
    const response = await this.send(method, url, options.body);
    const text = await response.text();
    if (response.status >= 400) throw new ApiProblemError(problemFrom(response.status, response.statusText, text, path), method, url);
    let raw: unknown;
    try {
      raw = text === '' ? null : JSON.parse(text);
    } catch {
      throw new ApiTransportError(`${method} ${url} answered ${response.status} with a body that is not JSON`);
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      throw new ApiTransportError(`${method} ${url} answered a body the CLI cannot read:\n  ${formatIssues(parsed.error).join('\n  ')}`);
    }
    return { status: response.status, body: parsed.data, raw };
  }

  /**
   * Opens `path` as a Server-Sent Events stream (`Accept: text/event-stream`) with the credential in
   * the headers, and `Last-Event-ID: lastEventId` when resuming; returns the response whose body streams.
   *
   * @throws ApiProblemError on an error status; ApiTransportError when unreachable.
   */
  async openStream(path: string, signal?: AbortSignal, lastEventId?: string | null): Promise<Response> {
    const url = this.urlFor(path);
    const extra: Record<string, string> = { accept: 'text/event-stream' };
    if (lastEventId) extra['last-event-id'] = lastEventId;
    const response = await this.send('GET', url, undefined, extra, signal);
    if (response.status >= 400) throw new ApiProblemError(problemFrom(response.status, response.statusText, await response.text(), path), 'GET', url);
    return response;
  }

  private async send(method: string, url: string, body: unknown, extra: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
    const headers = this.headers(body === undefined ? extra : { 'content-type': 'application/json', ...extra });
    try {
      return await this.fetchImpl(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new ApiTransportError(`cannot reach ${url}: ${cause?.code ?? cause?.message ?? (error as Error).message}`, { cause: error });
    }
  }
}

/** A problem body as RFC 9457 §3.1 allows it: every member optional (a proxy's may carry only `title`). */
const ForeignProblem = Problem.partial();

/**
 * The problem in an error response: the RFC 9457 body when there is one (members it leaves out are
 * filled as the RFC says: `type` "about:blank", `status` and `title` from the status line, `instance`
 * the request), else one made from the status line and the first 500 characters of the body.
 */
export function problemFrom(status: number, statusText: string, text: string, instance: string): Problem {
  const fallbackTitle = statusText || `HTTP ${status}`;
  try {
    const parsed = ForeignProblem.safeParse(JSON.parse(text));
    if (parsed.success && (parsed.data.type !== undefined || parsed.data.title !== undefined || parsed.data.detail !== undefined)) {
      const { type, title, status: bodyStatus, instance: bodyInstance, ...rest } = parsed.data;
      return { type: type ?? 'about:blank', title: title ?? fallbackTitle, status: bodyStatus ?? status, instance: bodyInstance ?? instance, ...rest };
    }
  } catch {
    // not JSON: fall through
  }
  return { type: 'about:blank', title: fallbackTitle, status, detail: text.slice(0, 500) || undefined, instance };
}
