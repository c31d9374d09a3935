import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LanguageModel } from 'ai';
import { modelConfigFromEnv, secondaryModelConfigFromEnv, type ModelConfig } from './model-config';
import { SCRIPTED_TEST_PROVIDER, scriptedLanguageModelFromFile } from './scripted-model';

/**
 * An AI SDK language model object (not a bare model-id string, which the AI SDK would resolve through
 * its hosted gateway). Every Troupe agent takes one of these; tests pass `MockLanguageModelV3` from
 * `ai/test`.
 */
export type ChatLanguageModel = Exclude<LanguageModel, string>;

/**
 * Creates the AI SDK model for `config` with the official provider packages: `@ai-sdk/openai`
 * (Responses API), `@ai-sdk/anthropic` (Messages API) or `@ai-sdk/openai-compatible` (chat completions,
 * JSON-schema response format requested). Creating the model performs no I/O; a wrong key or endpoint
 * shows up on the first call as a {@link ModelCallError} from {@link generateStructured}.
 * `compatibleProviderName` names an `openai-compatible` provider (default `openai-compatible`); the
 * model chain keeps one circuit breaker per provider name.
 */
export function createLanguageModel(config: ModelConfig, options: { compatibleProviderName?: string } = {}): ChatLanguageModel {
  const apiKey = config.apiKey?.reveal();
  const baseURL = config.baseUrl ?? undefined;
  switch (config.provider) {
    case 'openai':
      return createOpenAI({ apiKey, baseURL })(config.modelName);
    case 'anthropic':
      return createAnthropic({ apiKey, baseURL })(config.modelName);
    case 'openai-compatible':
      return createOpenAICompatible({
        // The provider name keys the circuit breaker: a second OpenAI-compatible server gets its own.
        name: options.compatibleProviderName ?? 'openai-compatible',
        // Required by the configuration schema for this provider.
        baseURL: baseURL as string,
        apiKey,
        supportsStructuredOutputs: true,
      }).chatModel(config.modelName);
    case SCRIPTED_TEST_PROVIDER:
      // A test double (end-to-end tests); the configuration requires the script file.
      return scriptedLanguageModelFromFile(config.scriptFile as string, { modelId: config.modelName });
  }
}

/**
 * The models of a model chain from the environment, in chain order: `TROUPE_MODEL_*` (the primary), then
 * `TROUPE_SECONDARY_MODEL_*`, each left out when not configured. OpenAI-compatible servers are named
 * `openai-compatible` and `openai-compatible-secondary`, so each has its own circuit breaker.
 *
 * @throws ModelConfigError when either is set but incomplete.
 */
export function chainModelsFromEnv(env: NodeJS.ProcessEnv): ChatLanguageModel[] {
  return [modelConfigFromEnv(env), secondaryModelConfigFromEnv(env)].flatMap((config, n) =>
    config === null ? [] : [createLanguageModel(config, { compatibleProviderName: n === 0 ? 'openai-compatible' : 'openai-compatible-secondary' })],
  );
}

/** `provider/modelId` of a model, e.g. `openai.responses/gpt-4o-mini`; used in agent names and errors. */
export function modelLabel(model: ChatLanguageModel): string {
  return `${model.provider}/${model.modelId}`;
}
