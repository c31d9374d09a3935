import { SpanKind, type Attributes, type Span } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import {
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_OUTPUT_TYPE,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_REQUEST_TEMPERATURE,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  GEN_AI_OPERATION_NAME_VALUE_CHAT,
} from '@opentelemetry/semantic-conventions/incubating';
import { ConfigurationError } from '@troupe/contracts';
import { TROUPE_ATTRIBUTES } from './attributes';
import { recordModelUsage } from './metrics';
import { workflowTypeFromBaggage } from './propagation';
import { errorTypeOf, withSpan } from './spans';

/** What a model call span describes (GenAI semantic conventions, https://opentelemetry.io/docs/specs/semconv/gen-ai/). */
export interface ModelCallAttributes {
  /** `gen_ai.provider.name`, e.g. `openai`, `anthropic` (see {@link genAiProviderName}). */
  providerName: string;
  /** `gen_ai.request.model`, the model id asked for. */
  requestModel: string;
  /** `gen_ai.operation.name` (default `chat`). */
  operationName?: string;
  temperature?: number;
  maxOutputTokens?: number;
  /** `gen_ai.output.type`: `text`, `json`, … */
  outputType?: string;
  /** The workflow type the call works for (default: the `troupe.workflow.type` baggage entry). */
  workflowType?: string | null;
}

/** What the call reports back to its span: token counts (null when the provider gave none) and response facts. */
export interface ModelCall {
  readonly span: Span;
  setUsage(usage: { inputTokens: number | null | undefined; outputTokens: number | null | undefined }): void;
  setResponse(response: { model?: string; finishReasons?: string[] }): void;
}

/** Prices of a model in USD per million tokens. */
export interface ModelPrice {
  inputUsdPerMillionTokens: number;
  outputUsdPerMillionTokens: number;
}

let prices = new Map<string, ModelPrice>();

/** Sets the price table cost metrics use, keyed by `gen_ai.request.model`; models not listed have no cost recorded. */
export function setModelPrices(table: Record<string, ModelPrice>): void {
  prices = new Map(Object.entries(table));
}

/**
 * Parses `TROUPE_MODEL_PRICES`: JSON `{"<model id>": {"inputUsdPerMillionTokens": n, "outputUsdPerMillionTokens": n}}`.
 *
 * @throws ConfigurationError when it is not such an object of non-negative numbers.
 */
export function parseModelPrices(value: string | undefined): Record<string, ModelPrice> {
  if (value === undefined || value.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new ConfigurationError([`TROUPE_MODEL_PRICES: not JSON (${(error as Error).message})`]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigurationError(['TROUPE_MODEL_PRICES: must be a JSON object keyed by model id']);
  const table: Record<string, ModelPrice> = {};
  const problems: string[] = [];
  for (const [model, price] of Object.entries(parsed)) {
    const input = (price as Partial<ModelPrice> | null)?.inputUsdPerMillionTokens;
    const output = (price as Partial<ModelPrice> | null)?.outputUsdPerMillionTokens;
    if (typeof input !== 'number' || typeof output !== 'number' || !(input >= 0) || !(output >= 0)) {
      problems.push(`TROUPE_MODEL_PRICES.${model}: needs non-negative inputUsdPerMillionTokens and outputUsdPerMillionTokens`);
    } else table[model] = { inputUsdPerMillionTokens: input, outputUsdPerMillionTokens: output };
  }
  if (problems.length > 0) throw new ConfigurationError(problems);
  return table;
}

/**
 * The `gen_ai.provider.name` of an AI SDK provider id (`openai.responses` → `openai`,
 * `anthropic.messages` → `anthropic`, `openai-compatible.chat` → `openai-compatible`): the part before
 * the first dot, which is the semantic-convention value for the providers it lists.
 */
export function genAiProviderName(providerId: string): string {
  const dot = providerId.indexOf('.');
  return dot < 0 ? providerId : providerId.slice(0, dot);
}

/**
 * Runs one model call inside a CLIENT span `<operation> <model>` with the GenAI attributes
 * (`gen_ai.operation.name`, `gen_ai.provider.name`, `gen_ai.request.model`, and on completion
 * `gen_ai.usage.input_tokens`, `gen_ai.usage.output_tokens`, response model and finish reasons; a
 * failure sets `error.type`). Records `gen_ai.client.operation.duration`, `gen_ai.client.token.usage`
 * and `troupe.model.cost` (USD, when the model has a price) by model and workflow type.
 */
export function withModelCallSpan<T>(attributes: ModelCallAttributes, fn: (call: ModelCall) => Promise<T>): Promise<T> {
  const operation = attributes.operationName ?? GEN_AI_OPERATION_NAME_VALUE_CHAT;
  const workflowType = attributes.workflowType ?? workflowTypeFromBaggage();
  const metricAttributes: Attributes = {
    [ATTR_GEN_AI_OPERATION_NAME]: operation,
    [ATTR_GEN_AI_PROVIDER_NAME]: attributes.providerName,
    [ATTR_GEN_AI_REQUEST_MODEL]: attributes.requestModel,
    ...(workflowType !== null ? { [TROUPE_ATTRIBUTES.workflowType]: workflowType } : {}),
  };
  const startedAt = performance.now();
  let inputTokens: number | null = null;
  let outputTokens: number | null = null;
  const finish = (errorType: string | null): void => {
    const price = prices.get(attributes.requestModel);
    const costUsd =
      price === undefined || (inputTokens === null && outputTokens === null)
        ? null
        : ((inputTokens ?? 0) * price.inputUsdPerMillionTokens + (outputTokens ?? 0) * price.outputUsdPerMillionTokens) / 1_000_000;
    recordModelUsage({
      inputTokens,
      outputTokens,
      durationSeconds: (performance.now() - startedAt) / 1_000,
      costUsd,
      attributes: errorType === null ? metricAttributes : { ...metricAttributes, [ATTR_ERROR_TYPE]: errorType },
    });
  };
  return withSpan(`${operation} ${attributes.requestModel}`, { kind: SpanKind.CLIENT, attributes: {
    ...metricAttributes,
    ...(attributes.temperature !== undefined ? { [ATTR_GEN_AI_REQUEST_TEMPERATURE]: attributes.temperature } : {}),
    ...(attributes.maxOutputTokens !== undefined ? { [ATTR_GEN_AI_REQUEST_MAX_TOKENS]: attributes.maxOutputTokens } : {}),
    ...(attributes.outputType !== undefined ? { [ATTR_GEN_AI_OUTPUT_TYPE]: attributes.outputType } : {}),
  } }, async (span) => {
    const call: ModelCall = {
      span,
      setUsage(usage) {
        inputTokens = usage.inputTokens ?? null;
        outputTokens = usage.outputTokens ?? null;
        if (inputTokens !== null) span.setAttribute(ATTR_GEN_AI_USAGE_INPUT_TOKENS, inputTokens);
        if (outputTokens !== null) span.setAttribute(ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, outputTokens);
      },
      setResponse(response) {
        if (response.model !== undefined) span.setAttribute(ATTR_GEN_AI_RESPONSE_MODEL, response.model);
        if (response.finishReasons !== undefined) span.setAttribute(ATTR_GEN_AI_RESPONSE_FINISH_REASONS, response.finishReasons);
      },
    };
    try {
      const result = await fn(call);
      finish(null);
      return result;
    } catch (error) {
      finish(errorTypeOf(error));
      throw error;
    }
  });
}
