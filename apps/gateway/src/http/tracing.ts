import { httpServerInstrumentation } from '@troupe/telemetry';

/** Path prefixes of requests without a span: health probes, Swagger UI and its assets, the dashboard's script. */
export const UNTRACED_PATH_PREFIXES: readonly string[] = ['/health', '/docs', '/dashboard/'];

/**
 * The gateway's HTTP server instrumentation: a SERVER span `<method> <route>` per request but those
 * under {@link UNTRACED_PATH_PREFIXES}, `?api_key=` redacted (see `httpServerInstrumentation`).
 * Imported only by `instrumentation.ts`, before Nest and Express load.
 */
export function gatewayHttpInstrumentation(): ReturnType<typeof httpServerInstrumentation> {
  return httpServerInstrumentation({ ignoredPathPrefixes: UNTRACED_PATH_PREFIXES });
}
