/**
 * @troupe/agent-kit: how Troupe agents reach language models.
 *
 * Start with {@link modelConfigFromEnv} (the `TROUPE_MODEL_*` environment, `null` when no model is
 * configured), {@link createLanguageModel} (an AI SDK model for OpenAI, Anthropic or any
 * OpenAI-compatible server) and {@link generateStructured} (one zod-validated JSON answer, retried with
 * the validation errors fed back). Agents take a {@link ChatLanguageModel}, so tests pass the AI SDK's
 * `MockLanguageModelV3` (or {@link scriptedLanguageModel}, built on it). The ReAct loop, budgets and fallback chains come later (DESIGN.md "Agents").
 */
export { AgentKitError, ModelConfigError, ModelCallError, StructuredOutputError } from './errors';
export { Secret } from './secret';
export {
  ModelProvider,
  type ModelConfig,
  MODEL_ENV_KEYS,
  modelConfigFromEnv,
  describeModelConfig,
} from './model-config';
export { type ChatLanguageModel, createLanguageModel, modelLabel } from './language-model';
export { type StructuredRequest, type StructuredAnswer, generateStructured } from './structured-output';
export { type EmailPromptOptions, formatEmailForPrompt } from './email-prompt';
export { type ScriptedAnswer, scriptedLanguageModel, SCRIPTED_TEST_PROVIDER, ModelScriptFile, scriptedLanguageModelFromFile } from './scripted-model';
export { withModelTelemetry } from './model-telemetry';
export { handleEmailTask } from './email-task';
