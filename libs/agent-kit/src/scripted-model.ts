import { MockLanguageModelV3 } from 'ai/test';

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
