import { readFileSync } from 'node:fs';
import { APICallError } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { z } from 'zod';
import { SchemaValidationError, parseOrThrow } from '@troupe/contracts';

/** One scripted model answer: the text the model returns, or an error the call throws. */
export type ScriptedAnswer = string | Error;

/**
 * A deterministic language model that answers the n-th call with the n-th scripted answer (the last one
 * repeats once the script runs out). Built on the AI SDK's `MockLanguageModelV3`, whose `doGenerateCalls`
 * records every request (system prompt, messages, response format) for assertions. For tests and
 * offline replays; it reports no token usage. Only `generateText`-style calls are supported, not streaming.
 */
export function scriptedLanguageModel(
  answers: readonly ScriptedAnswer[],
  options: { provider?: string; modelId?: string } = {},
): MockLanguageModelV3 {
  if (answers.length === 0) throw new RangeError('scriptedLanguageModel needs at least one answer');
  let calls = 0;
  return new MockLanguageModelV3({
    provider: options.provider ?? 'scripted',
    modelId: options.modelId ?? 'scripted-model',
    doGenerate: async () => {
      const answer = answers[Math.min(calls, answers.length - 1)];
      calls += 1;
      if (answer instanceof Error) throw answer;
      return {
        content: [{ type: 'text', text: answer }],
        finishReason: { unified: 'stop', raw: 'stop' },
        usage: {
          inputTokens: { total: undefined, noCache: undefined, cacheRead: undefined, cacheWrite: undefined },
          outputTokens: { total: undefined, text: undefined, reasoning: undefined },
        },
        warnings: [],
      };
    },
  });
}

/** Value of `TROUPE_MODEL_PROVIDER` that selects the scripted test double ({@link scriptedLanguageModelFromFile}). */
export const SCRIPTED_TEST_PROVIDER = 'scripted-test-double';

const Usage = {
  inputTokens: z.number().int().nonnegative().optional(),
  outputTokens: z.number().int().nonnegative().optional(),
};

/**
 * One answer of a script file: text with the token usage to report; tool calls (the model asks for
 * tools by name with a JSON input; call ids are `scripted-call-<n>-<index>`, n counting this process's
 * tool-call answers) with the usage; or
 * a failure of the call.
 */
const ScriptFileAnswer = z.union([
  // First: the text variant would take an answer with `toolCalls` and `text` and drop its calls.
  z.object({
    toolCalls: z.array(z.object({ toolName: z.string().min(1), input: z.record(z.string(), z.unknown()) })).min(1),
    /** Text the model says beside its calls (default none). */
    text: z.string().default(''),
    ...Usage,
  }),
  z.object({ text: z.string(), ...Usage }),
  z.object({
    error: z.object({
      message: z.string().min(1),
      /** HTTP status the failure pretends to have (default 503). */
      statusCode: z.number().int().min(400).max(599).default(503),
      /** Whether the AI SDK may retry it (default true: the SDK retries after its backoff). */
      retryable: z.boolean().default(true),
    }),
  }),
]);

/**
 * A script file of the scripted test double: answers per response-format name (the `schemaName` of
 * `generateStructured`, e.g. `triage_route`), else by a phrase of the system prompt
 * (`answersBySystemPrompt`), else `default`. The n-th call with a name
 * gets its n-th answer; the last one repeats.
 */
export const ModelScriptFile = z.object({
  answers: z.record(z.string(), z.array(ScriptFileAnswer).min(1)),
  /**
   * For calls without a response-format name (agent runs and the supervisor's chain ask in plain text
   * with the answer schema in the system prompt): the answers of the first entry whose `contains`
   * occurs in the call's system prompt, counted per entry.
   */
  answersBySystemPrompt: z.array(z.object({ contains: z.string().min(1), answers: z.array(ScriptFileAnswer).min(1) })).default([]),
});
export type ModelScriptFile = z.infer<typeof ModelScriptFile>;

/**
 * TEST DOUBLE, not a model: a `MockLanguageModelV3` answering from a JSON script file
 * ({@link ModelScriptFile}), with the token usage the script states and scripted failures thrown as
 * AI SDK `APICallError`s (so the SDK's retry rules apply). Selected with
 * `TROUPE_MODEL_PROVIDER=scripted-test-double` and `TROUPE_MODEL_SCRIPT_FILE`, so end-to-end tests
 * can run the apps as separate processes with a deterministic model. Each process counts calls itself.
 *
 * @throws SchemaValidationError when the file is not a valid script (at creation, not at the first call).
 */
export function scriptedLanguageModelFromFile(filePath: string, options: { modelId?: string } = {}): MockLanguageModelV3 {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(filePath, 'utf8'));
  } catch (error) {
    throw new SchemaValidationError(`model script ${filePath}`, [`(root): not readable JSON (${(error as Error).message})`]);
  }
  const script = parseOrThrow(ModelScriptFile, raw, `model script ${filePath}`);
  const calls = new Map<string, number>();
  let toolCalls = 0;
  return new MockLanguageModelV3({
    provider: 'scripted',
    modelId: options.modelId ?? 'scripted-model',
    doGenerate: async (callOptions) => {
      const format = callOptions.responseFormat;
      const system = callOptions.prompt
        .filter((message) => message.role === 'system')
        .map((message) => message.content)
        .join('\n');
      const bySystem = script.answersBySystemPrompt.findIndex((entry) => system.includes(entry.contains));
      const named =
        format?.type === 'json' && format.name !== undefined && script.answers[format.name] !== undefined ? format.name : bySystem >= 0 ? `system#${bySystem}` : 'default';
      const answers = bySystem >= 0 && named === `system#${bySystem}` ? script.answersBySystemPrompt[bySystem].answers : script.answers[named];
      if (answers === undefined) throw new Error(`model script ${filePath} has no answers for ${format?.type === 'json' ? (format.name ?? 'an unnamed format') : 'text'} and no default`);
      const n = calls.get(named) ?? 0;
      calls.set(named, n + 1);
      const answer = answers[Math.min(n, answers.length - 1)];
      if ('error' in answer) {
        throw new APICallError({
          message: answer.error.message,
          url: `scripted://${filePath}`,
          requestBodyValues: {},
          statusCode: answer.error.statusCode,
          isRetryable: answer.error.retryable,
        });
      }
      const usage = {
        inputTokens: { total: answer.inputTokens, noCache: answer.inputTokens, cacheRead: undefined, cacheWrite: undefined },
        outputTokens: { total: answer.outputTokens, text: answer.outputTokens, reasoning: undefined },
      };
      if ('toolCalls' in answer) {
        toolCalls += 1;
        const n = toolCalls;
        return {
          content: [
            ...(answer.text === '' ? [] : [{ type: 'text' as const, text: answer.text }]),
            ...answer.toolCalls.map((call, index) => ({
              type: 'tool-call' as const,
              toolCallId: `scripted-call-${n}-${index}`,
              toolName: call.toolName,
              input: JSON.stringify(call.input),
            })),
          ],
          finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
          usage,
          warnings: [],
        };
      }
      return {
        content: [{ type: 'text', text: answer.text }],
        finishReason: { unified: 'stop', raw: 'stop' },
        usage,
        warnings: [],
      };
    },
  });
}
