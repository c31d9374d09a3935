/**
 * @troupe/agent-kit: how Troupe agents reach language models.
 *
 * Start with {@link modelConfigFromEnv} (the `TROUPE_MODEL_*` environment, `null` when no model is
 * configured), {@link createLanguageModel} (an AI SDK model for OpenAI, Anthropic or any
 * OpenAI-compatible server) and {@link generateStructured} (one zod-validated JSON answer, retried with
 * the validation errors fed back). Agents take a {@link ChatLanguageModel}, so tests pass the AI SDK's
 * `MockLanguageModelV3` (or {@link scriptedLanguageModel}, built on it).
 *
 * Agent runs (DESIGN.md "Agents"): declare an agent with {@link defineAgent} (prompt, zod-typed tools from
 * {@link defineTool}, answer schema, budget) served by a {@link ModelChain} (primary → secondary models →
 * non-LLM fallback, each model behind cockatiel's timeout, retry with backoff and jitter honouring
 * `Retry-After`, and a per-provider circuit breaker). A run is a `react-loop` actor in the orchestrator;
 * {@link AgentHost} executes its `model.call`, `tool.call` and `agent.result` effects. Every model call goes
 * through {@link callModel} and every tool call through {@link callTool} (where tracing wraps them).
 */
export { AgentKitError, ModelConfigError, ModelCallError, StructuredOutputError } from './errors';
export { Secret } from './secret';
export {
  ModelProvider,
  type ModelConfig,
  MODEL_ENV_KEYS,
  modelConfigFromEnv,
  secondaryModelConfigFromEnv,
  describeModelConfig,
} from './model-config';
export { type ChatLanguageModel, createLanguageModel, chainModelsFromEnv, modelLabel } from './language-model';
export { type StructuredRequest, type StructuredAnswer, generateStructured } from './structured-output';
export { type EmailPromptOptions, formatEmailForPrompt } from './email-prompt';
export { type ScriptedAnswer, scriptedLanguageModel, SCRIPTED_TEST_PROVIDER, ModelScriptFile, scriptedLanguageModelFromFile } from './scripted-model';
export { withModelTelemetry } from './model-telemetry';
export { handleEmailTask } from './email-task';
export { type OneStepQuestion, type OneStepAnswer, NoFallbackError, answerOneStep } from './one-step';
export { type ModelPrice, type PriceTable, MODEL_PRICES_ENV_KEY, priceTableFromEnv, costOf } from './pricing';
export { type ToolCallContext, type ToolDefinition, type AnyToolDefinition, type ToolCallOutcome, defineTool, callTool } from './tools';
export { type ModelCallRequest, type ModelCallResult, ModelAttemptError, callModel, parseAnswer, toModelMessages, retryAfterMs, classifyModelError } from './model-call';
export {
  type ResilienceOptions,
  DEFAULT_RESILIENCE,
  resilienceFromEnvironment,
  ProviderBreakers,
  type NonLlmFallback,
  type ModelChainResult,
  type ModelCallOptions,
  ModelChainExhaustedError,
  type ModelChainOptions,
  ModelChain,
} from './model-chain';
export {
  MODEL_FALLBACK_EVENT,
  type ModelFallbackReason,
  type ModelFallback,
  type FallbackLogger,
  type ModelFallbackReporterOptions,
  ModelFallbackReporter,
} from './model-fallbacks';
export { type AgentDefinition, type AnyAgentDefinition, defineAgent, AgentRegistry, advertisementOf } from './agent-definition';
export {
  UnknownAgentError,
  type ToolResultStore,
  InMemoryToolResultStore,
  KvToolResultStore,
  agentRunRequest,
  executeModelCall,
  executeToolCall,
  agentResultEvent,
  AgentHost,
} from './agent-host';
export { reactLoopWorkflow } from './react-loop.workflow';
export {
  type WorkflowSpend,
  type WorkflowUsageLedger,
  type WorkflowLimits,
  InMemoryWorkflowUsage,
  KvWorkflowUsage,
  type MeteredCall,
  WorkflowCallBudget,
  recordModelCallUsage,
  withWorkflowBudget,
  workflowBudgetExhausted,
  stricterLimits,
} from './workflow-usage';
export { supervisorRoutingWorkflow } from './supervisor-routing.workflow';
export { advertiseAgents, readAgentAdvertisements, routeCandidates } from './advertisements';
export { type ModelInvocation, invokeModel } from './invoke-model';
