import { Logger } from '@nestjs/common';
import { TroupeLogger, describeTelemetry, nestLogLevel, shutdownTelemetry } from '@troupe/telemetry';

/**
 * Runs an app's `bootstrap`; if it fails, logs the error under `name` and exits with code 1, so a
 * process manager sees a failed start instead of a process that lingers half-started.
 *
 * Before `bootstrap`, every Nest logger of the process is routed to {@link TroupeLogger}: JSON lines
 * on stdout through pino, with `trace_id` and `span_id` of the active span, at `TROUPE_LOG_LEVEL`
 * (the app's `logger: logLevelsFrom(...)` option keeps setting the levels).
 */
export function runApp(name: string, bootstrap: () => Promise<void>): void {
  Logger.overrideLogger(new TroupeLogger({ service: name, level: nestLogLevel(process.env.TROUPE_LOG_LEVEL) }));
  new Logger(name).log(describeTelemetry());
  void bootstrap().catch(async (error: unknown) => {
    new Logger(name).error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    await shutdownTelemetry().catch(() => undefined);
    process.exit(1);
  });
}

/**
 * On the first SIGTERM or SIGINT, runs `steps` one after another (e.g. release leases, close the Nest
 * app, close the stores, drain NATS), then flushes telemetry, and exits with code 0; a step that throws
 * is logged and the rest still run, then the process exits with code 1.
 */
export function shutdownOnSignal(name: string, steps: Array<() => Promise<unknown>>): void {
  const shutdown = async (): Promise<void> => {
    let failed = false;
    for (const step of [...steps, () => shutdownTelemetry()]) {
      try {
        await step();
      } catch (error) {
        failed = true;
        new Logger(name).error(`shutdown step failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    process.exit(failed ? 1 : 0);
  };
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
}
