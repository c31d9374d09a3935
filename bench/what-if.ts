/**
 * What-ifs for the current profile's two library findings, applied by patching at run time in a
 * process of their own (bench/what-if-child.ts), never in the main bench process: each estimates what
 * the same change would pay if made for real (in nats.js upstream or a patch of it, and in
 * `libs/bus`). None is meant to be used outside this measurement.
 *
 * Both findings have since been made in libs/ (`AckedPublisher` of @troupe/bus publishes without nats.js's
 * request multiplexer; `JetStreamServer` resolves its handler once per consumer), so on the step path
 * these patches change nothing; they remain for comparison and are off by default (`--what-if-events`).
 */
import { JetStreamServer } from '@troupe/bus';

/** The what-if variants, by name. */
export const WHAT_IFS = ['as is', 'no NatsError per request', 'handler looked up once per pattern', 'both'] as const;
export type WhatIf = (typeof WHAT_IFS)[number];

/**
 * nats.js 2.29 `RequestOne.resolver` resolves the request and then calls `cancel()`, which builds a
 * `NatsError` (an `Error`, stack captured) to reject the already-settled promise: once per request,
 * i.e. per `js.publish` and KV write. The patch skips that error when the request was already answered.
 */
function skipNatsErrorPerRequest(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { RequestOne } = require('nats/lib/nats-base-client/request') as {
    RequestOne: { prototype: { resolver(error: unknown, message: unknown): void; cancel(error?: unknown): void } };
  };
  type Patched = { answered?: boolean; timer?: { cancel(): void }; mux: { cancel(request: unknown): void } };
  const resolver = RequestOne.prototype.resolver;
  const cancel = RequestOne.prototype.cancel;
  RequestOne.prototype.resolver = function (this: Patched, error: unknown, message: unknown) {
    this.answered = true;
    resolver.call(this, error, message);
  };
  RequestOne.prototype.cancel = function (this: Patched, error?: unknown) {
    if (error === undefined && this.answered === true) {
      this.timer?.cancel();
      this.mux.cancel(this);
      return;
    }
    cancel.call(this, error);
  };
}

/**
 * `JetStreamServer` asks Nest's `getHandlerByPattern` for every message; Nest's `getRouteFromPattern`
 * then tries `JSON.parse` on the pattern (`troupe.wf.*.*` is not JSON, so it throws and catches). The
 * patch memoises the lookup per pattern, as the server could once per consumer at start.
 */
function memoiseHandlerLookup(): void {
  const prototype = JetStreamServer.prototype as unknown as { getHandlerByPattern(pattern: string): unknown };
  const lookup = prototype.getHandlerByPattern;
  const cache = new WeakMap<object, Map<string, unknown>>();
  prototype.getHandlerByPattern = function (this: object, pattern: string) {
    let byPattern = cache.get(this);
    if (byPattern === undefined) cache.set(this, (byPattern = new Map()));
    if (!byPattern.has(pattern)) byPattern.set(pattern, lookup.call(this, pattern));
    return byPattern.get(pattern);
  };
}

/** Applies `whatIf` to this process (for good: run it in a process of its own). */
export function applyWhatIf(whatIf: WhatIf): void {
  if (whatIf === 'no NatsError per request' || whatIf === 'both') skipNatsErrorPerRequest();
  if (whatIf === 'handler looked up once per pattern' || whatIf === 'both') memoiseHandlerLookup();
}
