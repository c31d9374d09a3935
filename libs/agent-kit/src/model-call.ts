import { APICallError, jsonSchema, tool as aiTool, type ModelMessage, type ToolSet } from 'ai';
import { invokeModel } from './invoke-model';
import { TaskCancelledError } from 'cockatiel';
import { formatIssues, type ModelAttemptOutcome, type ModelDecision, type TranscriptMessage } from '@troupe/contracts';
import { z } from 'zod';
import { AgentKitError } from './errors';
import { modelLabel, type ChatLanguageModel } from './language-model';
import type { AnyToolDefinition } from './tools';

/** One model call: a system prompt, the run's transcript, the tools on offer and the final answer's schema. */
export interface ModelCallRequest {
  model: ChatLanguageModel;
  system: string;
  transcript: TranscriptMessage[];
  tools: readonly AnyToolDefinition[];
  /** The final answer's shape; null for a free-text answer. */
  answerSchema: z.ZodType | null;
  maxOutputTokens?: number;
  temperature?: number;
  abortSignal?: AbortSignal;
}

/** What one successful model call returned: the decision and the tokens the provider reported (0 when it reported none). */
export interface ModelCallResult {
  model: string;
  decision: ModelDecision;
  inputTokens: number;
  outputTokens: number;
}

/**
 * A model call failed. `outcome` classifies it (timeout, rate_limited, server_error, malformed_response,
 * connection_failed, rejected), `status` is the HTTP status when there was one, `retryAfterMs` the
 * provider's `Retry-After` (RFC 9110 §10.2.3: seconds or an HTTP date) in ms, and `transient` whether
 * trying again may help (timeouts, 408/409/429, 5xx, connection failures).
 */
export class ModelAttemptError extends AgentKitError {
  readonly model: string;
  readonly outcome: Exclude<ModelAttemptOutcome, 'ok' | 'fallback' | 'circuit_open' | 'budget_exhausted'>;
  readonly status: number | null;
  readonly retryAfterMs: number | null;
  readonly transient: boolean;

  constructor(options: {
    model: string;
    outcome: ModelAttemptError['outcome'];
    status: number | null;
    retryAfterMs: number | null;
    transient: boolean;
    message: string;
    cause?: unknown;
  }) {
    super('MODEL_ATTEMPT_FAILED', `model ${options.model}: ${options.message}`, { retryable: options.transient, cause: options.cause });
    this.model = options.model;
    this.outcome = options.outcome;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.transient = options.transient;
  }
}

/**
 * The one function every model call goes through (tracing wraps it: a span per call with
 * `gen_ai.request.model` and the token usage). Calls `request.model` once through the AI SDK
 * (`generateText`, no SDK retries: the model chain retries) with the tools offered by name, description
 * and input JSON schema but without `execute`, so the SDK returns the calls instead of running them.
 * The answer is a `tool_calls` decision when the model asked for tools, otherwise the text parsed with
 * `answerSchema` (JSON, tolerating a code fence or prose around it): `answer` when valid,
 * `invalid_answer` with the issue paths when not.
 *
 * @throws ModelAttemptError classifying the failure.
 */
export async function callModel(request: ModelCallRequest): Promise<ModelCallResult> {
  const model = modelLabel(request.model);
  const tools: ToolSet = {};
  for (const definition of request.tools) {
    tools[definition.name] = aiTool({ description: definition.description, inputSchema: jsonSchema(toJsonSchema(definition.inputSchema) as never) });
  }
  const system = request.answerSchema === null ? request.system : `${request.system}\n\n${answerInstruction(request.answerSchema)}`;
  let result: Awaited<ReturnType<typeof invokeModel>>;
  try {
    result = await invokeModel({
      model: request.model,
      system,
      messages: toModelMessages(request.transcript),
      ...(request.tools.length > 0 ? { tools } : {}),
      maxRetries: 0,
      maxOutputTokens: request.maxOutputTokens,
      temperature: request.temperature,
      abortSignal: request.abortSignal,
    });
  } catch (error) {
    throw classifyModelError(model, error);
  }
  const inputTokens = result.usage.inputTokens ?? 0;
  const outputTokens = result.usage.outputTokens ?? 0;
  if (result.toolCalls.length > 0) {
    const byName = new Map(request.tools.map((definition) => [definition.name, definition]));
    return {
      model,
      inputTokens,
      outputTokens,
      decision: {
        kind: 'tool_calls',
        text: result.text,
        calls: result.toolCalls.map((call) => ({
          callId: call.toolCallId,
          tool: call.toolName,
          input: call.input,
          requiresApproval: byName.get(call.toolName)?.requiresApproval ?? false,
        })),
      },
    };
  }
  return { model, inputTokens, outputTokens, decision: parseAnswer(result.text, request.answerSchema) };
}

/** Parses a final answer: the JSON object in `text` (a code fence or prose around it tolerated) validated with `schema`. */
export function parseAnswer(text: string, schema: z.ZodType | null): ModelDecision {
  if (schema === null) return { kind: 'answer', value: text, text };
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end <= start) return { kind: 'invalid_answer', text, issues: ['(root): no JSON object in the answer'] };
  let json: unknown;
  try {
    json = JSON.parse(text.slice(start, end + 1));
  } catch (error) {
    return { kind: 'invalid_answer', text, issues: [`(root): not valid JSON (${(error as Error).message})`] };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { kind: 'invalid_answer', text, issues: formatIssues(parsed.error) };
  return { kind: 'answer', value: parsed.data, text };
}

/** The transcript as AI SDK messages: assistant tool calls as `tool-call` parts, tool results as `tool-result` JSON parts. */
export function toModelMessages(transcript: readonly TranscriptMessage[]): ModelMessage[] {
  return transcript.map((message): ModelMessage => {
    switch (message.role) {
      case 'user':
        return { role: 'user', content: message.content };
      case 'assistant':
        if (message.toolCalls.length === 0) return { role: 'assistant', content: message.content };
        return {
          role: 'assistant',
          content: [
            ...(message.content === '' ? [] : [{ type: 'text' as const, text: message.content }]),
            ...message.toolCalls.map((call) => ({ type: 'tool-call' as const, toolCallId: call.callId, toolName: call.tool, input: call.input })),
          ],
        };
      case 'tool':
        return {
          role: 'tool',
          content: [{ type: 'tool-result', toolCallId: message.callId, toolName: message.tool, output: { type: 'json', value: (message.output ?? null) as never } }],
        };
    }
  });
}

function toJsonSchema(schema: z.ZodType): Record<string, unknown> {
  try {
    return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  } catch {
    return { type: 'object' };
  }
}

function answerInstruction(schema: z.ZodType): string {
  return `When you give your final answer, answer with a single JSON object and nothing else. Its JSON schema: ${JSON.stringify(toJsonSchema(schema))}`;
}

/**
 * Reads `Retry-After` (seconds, or an HTTP date relative to `now`) in ms; null when absent or unreadable.
 * RFC 9110 §10.2.3.
 */
export function retryAfterMs(headers: Record<string, string> | undefined, now: number = Date.now()): number | null {
  const value = headers?.['retry-after'] ?? headers?.['Retry-After'];
  if (value === undefined) return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1_000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** Classifies a failed call (AI SDK `APICallError`, cockatiel's timeout, an abort, anything else). */
export function classifyModelError(model: string, error: unknown): ModelAttemptError {
  if (error instanceof ModelAttemptError) return error;
  if (error instanceof TaskCancelledError || (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError'))) {
    return new ModelAttemptError({ model, outcome: 'timeout', status: null, retryAfterMs: null, transient: true, message: 'timed out', cause: error });
  }
  if (APICallError.isInstance(error)) {
    const status = error.statusCode ?? null;
    const retryAfter = retryAfterMs(error.responseHeaders);
    if (status === null) {
      return new ModelAttemptError({ model, outcome: 'connection_failed', status, retryAfterMs: null, transient: true, message: error.message, cause: error });
    }
    if (status >= 200 && status < 300) {
      // A 2xx whose body is not the protocol's JSON: the same request would get the same garbage.
      return new ModelAttemptError({ model, outcome: 'malformed_response', status, retryAfterMs: null, transient: false, message: error.message, cause: error });
    }
    if (status === 429) {
      return new ModelAttemptError({ model, outcome: 'rate_limited', status, retryAfterMs: retryAfter, transient: true, message: error.message, cause: error });
    }
    if (status === 408) {
      return new ModelAttemptError({ model, outcome: 'timeout', status, retryAfterMs: retryAfter, transient: true, message: error.message, cause: error });
    }
    if (status >= 500 || status === 409) {
      return new ModelAttemptError({ model, outcome: 'server_error', status, retryAfterMs: retryAfter, transient: true, message: error.message, cause: error });
    }
    return new ModelAttemptError({ model, outcome: 'rejected', status, retryAfterMs: null, transient: false, message: error.message, cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  // Errors outside the HTTP call (the SDK could not parse the response, a network error it did not wrap).
  const malformed = error instanceof Error && /json|parse|type validation/i.test(`${error.name} ${message}`);
  return new ModelAttemptError({
    model,
    outcome: malformed ? 'malformed_response' : 'connection_failed',
    status: null,
    retryAfterMs: null,
    transient: !malformed,
    message,
    cause: error,
  });
}
