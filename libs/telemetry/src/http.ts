import type { IncomingMessage, ServerResponse } from 'node:http';
import { context } from '@opentelemetry/api';
import { RPCType, getRPCMetadata } from '@opentelemetry/core';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';

/** Options of {@link httpServerInstrumentation}. */
export interface HttpServerInstrumentationOptions {
  /**
   * Path prefixes whose requests get no span (matched against the path without the query string),
   * e.g. `/health` (also `/health/ready`), `/docs` (also `/docs-json` and Swagger UI's assets).
   */
  ignoredPathPrefixes?: readonly string[];
  /**
   * Query parameters whose values `url.query` shows as `REDACTED` (default {@link CREDENTIAL_QUERY_PARAMETERS}:
   * an `EventSource` cannot send headers, so it sends its API key in the query).
   */
  redactedQueryParameters?: readonly string[];
}

/** Query parameters that carry credentials, redacted in server spans by default. */
export const CREDENTIAL_QUERY_PARAMETERS: readonly string[] = ['api_key', 'access_token', 'token'];

/**
 * The route template Express matched for `request` (`req.baseUrl` + `req.route.path`, e.g.
 * `/workflows/:id/approvals`), or undefined when no route matched (a 404) or the server is not
 * Express. Read structurally: Express (and Nest's Express adapter) sets `req.route` on the request
 * object when it dispatches to a route, and it stays there after the handler returns.
 */
export function expressRouteOf(request: IncomingMessage): string | undefined {
  const { route, baseUrl } = request as IncomingMessage & { route?: { path?: unknown }; baseUrl?: unknown };
  if (typeof route?.path !== 'string') return undefined;
  return `${typeof baseUrl === 'string' ? baseUrl : ''}${route.path}`;
}

/** The path of a request URL without its query string. */
function pathOf(url: string | undefined): string {
  const path = url ?? '/';
  const query = path.indexOf('?');
  return query < 0 ? path : path.slice(0, query);
}

/**
 * `@opentelemetry/instrumentation-http` for an HTTP server (pass it to `startTelemetry`'s
 * `instrumentations`): one SERVER span per incoming request (HTTP semantic conventions:
 * `http.request.method`, `url.path`, `url.query` with credentials redacted,
 * `http.response.status_code`; no headers), continuing the caller's W3C `traceparent` when the
 * request carries one, and active while the request is handled, so what the handler publishes to
 * NATS is its child. When the response closes, the route Express matched ({@link expressRouteOf})
 * becomes `http.route` and the span name `<method> <route>` (e.g. `POST /workflows/:id/approvals`),
 * also for a response a guard wrote (401, 403, 429); the `http.server.request.duration` metric (s)
 * carries it too. A long-lived request (a Server-Sent Events feed) is one span that ends when the
 * connection closes. Outgoing requests are not instrumented.
 */
export function httpServerInstrumentation(options: HttpServerInstrumentationOptions = {}): HttpInstrumentation {
  const ignored = options.ignoredPathPrefixes ?? [];
  return new HttpInstrumentation({
    disableOutgoingRequestInstrumentation: true,
    redactedQueryParamsServer: [...(options.redactedQueryParameters ?? CREDENTIAL_QUERY_PARAMETERS)],
    ignoreIncomingRequestHook: (request) => {
      const path = pathOf(request.url);
      return ignored.some((prefix) => path.startsWith(prefix));
    },
    // Runs before the instrumentation listens for the response's 'close' (where it ends the span and
    // reads the route from the request's RPC metadata): this listener, added first, runs first.
    responseHook: (_span, response) => {
      const metadata = getRPCMetadata(context.active());
      const serverResponse = response as ServerResponse;
      if (metadata?.type !== RPCType.HTTP || serverResponse.req === undefined) return;
      serverResponse.once('close', () => {
        const route = expressRouteOf(serverResponse.req);
        if (route !== undefined) metadata.route = route;
      });
    },
  });
}
