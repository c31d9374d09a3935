import { trace, isSpanContextValid } from '@opentelemetry/api';
import pino, { type DestinationStream, type Level, type Logger as PinoLogger } from 'pino';

/** Nest's log levels, most severe first (the values of `TROUPE_LOG_LEVEL`). */
export type NestLogLevel = 'fatal' | 'error' | 'warn' | 'log' | 'debug' | 'verbose';

const PINO_LEVEL: Record<NestLogLevel, Level> = { fatal: 'fatal', error: 'error', warn: 'warn', log: 'info', debug: 'debug', verbose: 'trace' };
/** Fields of logged objects pino replaces by `[redacted]`: passwords, tokens, API keys, auth headers. */
const REDACTED_PATHS = ['pass', 'password', 'token', 'apiKey', 'api_key', '*.pass', '*.password', '*.token', '*.apiKey', '*.api_key', '*.headers.authorization', '*.headers["x-api-key"]'];
const ORDER: NestLogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** Options of {@link TroupeLogger}. */
export interface TroupeLoggerOptions {
  /** The process's name, written as `service` on every line (e.g. `orchestrator`). */
  service: string;
  /** The least severe level written (default `log`, i.e. pino `info`). */
  level?: NestLogLevel;
  /** Where lines go (default: stdout, synchronously, so nothing is lost on `process.exit`). */
  destination?: DestinationStream;
}

/**
 * A NestJS `LoggerService` over pino: one JSON object per line with `level`, `time` (ms since epoch),
 * `service`, `context` (the Nest logger's context), `msg`, and `trace_id` / `span_id` of the active
 * span when there is one, so a log line leads to its trace. Install it with `Logger.overrideLogger`
 * (`runApp` in @troupe/bus does); Nest's `logger: [levels]` option then sets its levels.
 *
 * Implements the LoggerService methods structurally (this library does not depend on Nest).
 */
export class TroupeLogger {
  readonly pino: PinoLogger;

  constructor(options: TroupeLoggerOptions) {
    this.pino = pino(
      {
        level: PINO_LEVEL[options.level ?? 'log'],
        base: { service: options.service },
        messageKey: 'msg',
        // Defence in depth: credentials in a logged object never reach the line (secrets are kept out of messages by design).
        redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
        formatters: { level: (label) => ({ level: label }) },
        mixin() {
          const spanContext = trace.getActiveSpan()?.spanContext();
          return spanContext !== undefined && isSpanContextValid(spanContext) ? { trace_id: spanContext.traceId, span_id: spanContext.spanId } : {};
        },
      },
      options.destination ?? pino.destination({ dest: 1, sync: true }),
    );
  }

  log(message: unknown, ...optionalParams: unknown[]): void {
    this.write('info', message, optionalParams);
  }

  error(message: unknown, ...optionalParams: unknown[]): void {
    // Nest calls error(message, stack?, context?): with two strings the first is the stack.
    const params = [...optionalParams];
    const context = params.length > 0 && typeof params[params.length - 1] === 'string' ? (params.pop() as string) : undefined;
    const stack = params.length > 0 && typeof params[0] === 'string' ? (params.shift() as string) : undefined;
    this.emit('error', message, context, stack === undefined ? {} : { stack });
  }

  warn(message: unknown, ...optionalParams: unknown[]): void {
    this.write('warn', message, optionalParams);
  }

  debug(message: unknown, ...optionalParams: unknown[]): void {
    this.write('debug', message, optionalParams);
  }

  verbose(message: unknown, ...optionalParams: unknown[]): void {
    this.write('trace', message, optionalParams);
  }

  fatal(message: unknown, ...optionalParams: unknown[]): void {
    this.write('fatal', message, optionalParams);
  }

  /** Sets the least severe level from Nest's list of enabled levels (what `logger: [...]` passes). */
  setLogLevels(levels: string[]): void {
    const enabled = ORDER.filter((level) => levels.includes(level));
    const least = enabled[enabled.length - 1];
    this.pino.level = least === undefined ? 'silent' : PINO_LEVEL[least];
  }

  private write(level: Level, message: unknown, optionalParams: unknown[]): void {
    const params = [...optionalParams];
    const context = params.length > 0 && typeof params[params.length - 1] === 'string' ? (params.pop() as string) : undefined;
    this.emit(level, message, context, params.length > 0 ? { details: params } : {});
  }

  private emit(level: Level, message: unknown, context: string | undefined, extra: Record<string, unknown>): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = { ...extra, ...(context !== undefined ? { context } : {}) };
    if (message instanceof Error) {
      this.pino[level]({ ...fields, err: message }, message.message);
    } else if (typeof message === 'string') {
      this.pino[level](fields, message);
    } else {
      this.pino[level]({ ...fields, value: message }, typeof message === 'object' ? JSON.stringify(message) : String(message));
    }
  }
}

/** The Nest level a `TROUPE_LOG_LEVEL` value names; `log` when it is absent or not a level. */
export function nestLogLevel(value: string | undefined): NestLogLevel {
  return ORDER.includes(value as NestLogLevel) ? (value as NestLogLevel) : 'log';
}
