import { wrapLanguageModel } from 'ai';
import { genAiProviderName, withModelCallSpan } from '@troupe/telemetry';
import type { ChatLanguageModel } from './language-model';

// Models this function returned, so wrapping one again (a caller and generateStructured) adds no second span.
const instrumented = new WeakSet<object>();

/**
 * Wraps a model so each provider call (each `doGenerate`, the AI SDK's own retries included) runs in
 * a GenAI span (`chat <model>`: `gen_ai.operation.name`, `gen_ai.provider.name`,
 * `gen_ai.request.model`, `gen_ai.usage.input_tokens` / `output_tokens`, `error.type` on failure) and
 * records token, duration and cost metrics by model and workflow type (@troupe/telemetry
 * `withModelCallSpan`). The wrapped model keeps the provider id and model id. Only AI SDK v3 models
 * are wrapped (every provider Troupe configures is one); streaming calls are not instrumented yet.
 * A model already wrapped by this function is returned as it is.
 */
export function withModelTelemetry(model: ChatLanguageModel): ChatLanguageModel {
  if (model.specificationVersion !== 'v3' || instrumented.has(model)) return model;
  const wrapped = wrapLanguageModel({
    model,
    middleware: {
      specificationVersion: 'v3',
      wrapGenerate: ({ doGenerate, params, model: inner }) =>
        withModelCallSpan(
          {
            providerName: genAiProviderName(inner.provider),
            requestModel: inner.modelId,
            temperature: params.temperature,
            maxOutputTokens: params.maxOutputTokens,
            outputType: params.responseFormat?.type === 'json' ? 'json' : 'text',
          },
          async (call) => {
            const result = await doGenerate();
            call.setUsage({ inputTokens: result.usage.inputTokens.total, outputTokens: result.usage.outputTokens.total });
            call.setResponse({ model: result.response?.modelId, finishReasons: [result.finishReason.unified] });
            return result;
          },
        ),
    },
  });
  instrumented.add(wrapped);
  return wrapped;
}
