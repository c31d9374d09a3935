import { generateText } from 'ai';
import type { ChatLanguageModel } from './language-model';
import { withModelTelemetry } from './model-telemetry';

/** The options of one model invocation: the AI SDK's `generateText` options for an object model. */
export type ModelInvocation = Parameters<typeof generateText>[0] & { model: ChatLanguageModel };

/**
 * The single place where Troupe calls a language model: {@link callModel} (agent runs) and
 * {@link generateStructured} (one-shot structured answers) both go through here, so tracing wraps this
 * one function ({@link withModelTelemetry}: a span per provider call: `gen_ai.operation.name`, `gen_ai.request.model`, and the result's
 * `usage.inputTokens` / `usage.outputTokens`).
 *
 * @throws whatever the AI SDK throws (`APICallError`, `NoObjectGeneratedError`, an abort).
 */
export function invokeModel(invocation: ModelInvocation): ReturnType<typeof generateText> {
  return generateText({ ...invocation, model: withModelTelemetry(invocation.model) });
}
