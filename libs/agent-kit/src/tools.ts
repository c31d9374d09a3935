import { withToolSpan } from '@troupe/telemetry';
import { formatIssues } from '@troupe/contracts';
import type { z } from 'zod';

/** What a tool's `execute` receives besides its input. */
export interface ToolCallContext {
  /** The tool call's effect id: pass it on to anything external that takes an idempotency key. */
  idempotencyKey: string;
  /** The workflow id of the agent run. */
  runId: string;
  signal?: AbortSignal;
}

/**
 * A tool an agent may call: zod-typed input and output. `requiresApproval` suspends the run before the
 * call until a human decides (the react-loop's `tool-approval` gate).
 */
export interface ToolDefinition<TInput = unknown, TOutput = unknown> {
  /** snake_case, as models see it. */
  name: string;
  description: string;
  inputSchema: z.ZodType<TInput>;
  outputSchema: z.ZodType<TOutput>;
  requiresApproval?: boolean;
  execute(input: TInput, context: ToolCallContext): Promise<TOutput>;
}

/** Any tool, whatever its types (for registries). */
export interface AnyToolDefinition {
  name: string;
  description: string;
  inputSchema: z.ZodType;
  outputSchema: z.ZodType;
  requiresApproval?: boolean;
  execute(input: never, context: ToolCallContext): Promise<unknown>;
}

/** Declares a tool with its types inferred. */
export function defineTool<TInput, TOutput>(tool: ToolDefinition<TInput, TOutput>): ToolDefinition<TInput, TOutput> {
  return tool;
}

/** The outcome of one tool call: validated output, or why there is none. `latencyMs` is wall time of `execute`. */
export type ToolCallOutcome = { ok: true; output: unknown; error: null; latencyMs: number } | { ok: false; output: null; error: string; latencyMs: number };

/**
 * The one function every tool call goes through: validates `input` with the tool's input schema, runs
 * it, validates the output with its output schema. Never throws: a bad input, a failing tool or a bad
 * output comes back as `ok: false` with the reason (the issue paths for schema failures), which the
 * ReAct loop shows the model. Tracing wraps this function (a span per tool call, `gen_ai.tool.name`).
 */
export function callTool(tool: AnyToolDefinition, input: unknown, context: ToolCallContext, clock: () => number = Date.now): Promise<ToolCallOutcome> {
  return withToolSpan(tool.name, async (span) => {
    const outcome = await runTool(tool, input, context, clock);
    if (!outcome.ok) span.setAttribute('error.type', 'tool_error');
    return outcome;
  });
}

async function runTool(tool: AnyToolDefinition, input: unknown, context: ToolCallContext, clock: () => number): Promise<ToolCallOutcome> {
  const parsedInput = tool.inputSchema.safeParse(input);
  if (!parsedInput.success) {
    return { ok: false, output: null, error: `input of ${tool.name} is not valid: ${formatIssues(parsedInput.error).join('; ')}`, latencyMs: 0 };
  }
  const started = clock();
  let output: unknown;
  try {
    output = await tool.execute(parsedInput.data as never, context);
  } catch (error) {
    return { ok: false, output: null, error: `${tool.name} failed: ${error instanceof Error ? error.message : String(error)}`, latencyMs: clock() - started };
  }
  const latencyMs = clock() - started;
  const parsedOutput = tool.outputSchema.safeParse(output);
  if (!parsedOutput.success) {
    return { ok: false, output: null, error: `output of ${tool.name} is not valid: ${formatIssues(parsedOutput.error).join('; ')}`, latencyMs };
  }
  return { ok: true, output: parsedOutput.data, error: null, latencyMs };
}
