import { Logger } from '@nestjs/common';

/**
 * Runs an app's `bootstrap`; if it fails, logs the error under `name` and exits with code 1, so a
 * process manager sees a failed start instead of a process that lingers half-started.
 */
export function runApp(name: string, bootstrap: () => Promise<void>): void {
  void bootstrap().catch((error: unknown) => {
    new Logger(name).error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  });
}

/**
 * On the first SIGTERM or SIGINT, runs `steps` one after another (e.g. release leases, close the Nest
 * app, close the stores, drain NATS) and exits with code 0; a step that throws is logged and the rest
 * still run, then the process exits with code 1.
 */
export function shutdownOnSignal(name: string, steps: Array<() => Promise<unknown>>): void {
  const shutdown = async (): Promise<void> => {
    let failed = false;
    for (const step of steps) {
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
