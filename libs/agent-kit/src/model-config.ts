import { z } from 'zod';
import { ModelConfigError } from './errors';
import { Secret } from './secret';
import { SCRIPTED_TEST_PROVIDER } from './scripted-model';

/**
 * How a language model is reached: OpenAI's API, Anthropic's API, or any server speaking the OpenAI
 * chat-completions protocol (vLLM, Ollama, llama.cpp, LM Studio, hosted gateways).
 */
export const ModelProvider = z.enum(['openai', 'anthropic', 'openai-compatible']);
export type ModelProvider = z.infer<typeof ModelProvider>;

/**
 * A configured language model. `baseUrl` is null for the provider's default endpoint; `apiKey` is null
 * for a server that needs none (only allowed for `openai-compatible`).
 */
export interface ModelConfig {
  /** A real provider, or `scripted-test-double` (tests only, see `scriptedLanguageModelFromFile`). */
  provider: ModelProvider | typeof SCRIPTED_TEST_PROVIDER;
  modelName: string;
  baseUrl: string | null;
  apiKey: Secret | null;
  /** The script of the scripted test double (`TROUPE_MODEL_SCRIPT_FILE`); absent for real providers. */
  scriptFile?: string;
}

/** The environment variables {@link modelConfigFromEnv} reads. */
export const MODEL_ENV_KEYS = {
  provider: 'TROUPE_MODEL_PROVIDER',
  modelName: 'TROUPE_MODEL_NAME',
  baseUrl: 'TROUPE_MODEL_BASE_URL',
  apiKey: 'TROUPE_MODEL_API_KEY',
} as const;

const optionalText = z
  .string()
  .transform((value) => value.trim())
  .optional()
  .transform((value) => (value === undefined || value === '' ? undefined : value));

const ModelEnvironment = z
  .object({
    TROUPE_MODEL_PROVIDER: optionalText.pipe(ModelProvider.optional()),
    TROUPE_MODEL_NAME: optionalText.pipe(z.string().max(256, 'at most 256 characters').optional()),
    TROUPE_MODEL_BASE_URL: optionalText.pipe(
      z
        .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
        .optional(),
    ),
    // The key is checked for presence only, so no issue message can ever quote it.
    TROUPE_MODEL_API_KEY: optionalText,
  })
  .superRefine((env, context) => {
    const provider = env.TROUPE_MODEL_PROVIDER;
    if (provider === undefined) {
      for (const key of ['TROUPE_MODEL_NAME', 'TROUPE_MODEL_BASE_URL', 'TROUPE_MODEL_API_KEY'] as const) {
        if (env[key] !== undefined) context.addIssue({ code: 'custom', path: [key], message: 'set, but TROUPE_MODEL_PROVIDER is not' });
      }
      return;
    }
    if (env.TROUPE_MODEL_NAME === undefined) {
      context.addIssue({ code: 'custom', path: ['TROUPE_MODEL_NAME'], message: 'required when TROUPE_MODEL_PROVIDER is set' });
    }
    if (provider === 'openai-compatible' && env.TROUPE_MODEL_BASE_URL === undefined) {
      context.addIssue({ code: 'custom', path: ['TROUPE_MODEL_BASE_URL'], message: 'required for openai-compatible' });
    }
    if (provider !== 'openai-compatible' && env.TROUPE_MODEL_API_KEY === undefined) {
      context.addIssue({ code: 'custom', path: ['TROUPE_MODEL_API_KEY'], message: `required for ${provider}` });
    }
  });

/**
 * Reads the model configuration from the environment:
 *
 * - `TROUPE_MODEL_PROVIDER`: `openai` | `anthropic` | `openai-compatible`; absent or empty means no model
 *   is configured and the result is `null` (callers use their non-LLM implementation).
 * - `TROUPE_MODEL_NAME`: the provider's model id (`gpt-4o-mini`, `claude-sonnet-4-5`, `llama3.1:8b`); required.
 * - `TROUPE_MODEL_BASE_URL`: http(s) endpoint; required for `openai-compatible`, optional otherwise.
 * - `TROUPE_MODEL_API_KEY`: required for `openai` and `anthropic`, optional for `openai-compatible`;
 *   kept as a {@link Secret}, never logged.
 * - `TROUPE_MODEL_PROVIDER=scripted-test-double` (tests only) selects the scripted test double, which
 *   answers from the JSON file `TROUPE_MODEL_SCRIPT_FILE` (see `scriptedLanguageModelFromFile`).
 *
 * @throws ModelConfigError naming every bad key at once (never the key's value).
 */
export function modelConfigFromEnv(env: NodeJS.ProcessEnv): ModelConfig | null {
  if (env.TROUPE_MODEL_PROVIDER?.trim() === SCRIPTED_TEST_PROVIDER) return scriptedTestDoubleConfig(env);
  const parsed = ModelEnvironment.safeParse({
    TROUPE_MODEL_PROVIDER: env.TROUPE_MODEL_PROVIDER,
    TROUPE_MODEL_NAME: env.TROUPE_MODEL_NAME,
    TROUPE_MODEL_BASE_URL: env.TROUPE_MODEL_BASE_URL,
    TROUPE_MODEL_API_KEY: env.TROUPE_MODEL_API_KEY,
  });
  if (!parsed.success) {
    throw new ModelConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`));
  }
  const values = parsed.data;
  if (values.TROUPE_MODEL_PROVIDER === undefined) return null;
  return {
    provider: values.TROUPE_MODEL_PROVIDER,
    // Presence is guaranteed by the refinement above.
    modelName: values.TROUPE_MODEL_NAME as string,
    baseUrl: values.TROUPE_MODEL_BASE_URL ?? null,
    apiKey: values.TROUPE_MODEL_API_KEY === undefined ? null : new Secret(values.TROUPE_MODEL_API_KEY),
  };
}

/** The test double's configuration: `TROUPE_MODEL_SCRIPT_FILE` required, `TROUPE_MODEL_NAME` optional. */
function scriptedTestDoubleConfig(env: NodeJS.ProcessEnv): ModelConfig {
  const scriptFile = env.TROUPE_MODEL_SCRIPT_FILE?.trim() ?? '';
  if (scriptFile === '') throw new ModelConfigError([`TROUPE_MODEL_SCRIPT_FILE: required for ${SCRIPTED_TEST_PROVIDER}`]);
  return { provider: SCRIPTED_TEST_PROVIDER, modelName: env.TROUPE_MODEL_NAME?.trim() || 'scripted-model', baseUrl: null, apiKey: null, scriptFile };
}

/** One line for logs: `openai-compatible model llama3.1:8b at http://localhost:11434/v1 (API key set)`. Never shows the key. */
export function describeModelConfig(config: ModelConfig | null): string {
  if (config === null) return 'no language model configured';
  const endpoint = config.baseUrl === null ? 'default endpoint' : config.baseUrl;
  return `${config.provider} model ${config.modelName} at ${endpoint} (API key ${config.apiKey === null ? 'not set' : 'set'})`;
}

/**
 * Reads the secondary model of the fallback chain from `TROUPE_SECONDARY_MODEL_PROVIDER`, `_NAME`,
 * `_BASE_URL` and `_API_KEY`, with the rules of {@link modelConfigFromEnv}; null when not configured.
 *
 * @throws ModelConfigError naming the `TROUPE_SECONDARY_MODEL_*` keys that are wrong.
 */
export function secondaryModelConfigFromEnv(env: NodeJS.ProcessEnv): ModelConfig | null {
  const mapped: NodeJS.ProcessEnv = {};
  for (const key of Object.values(MODEL_ENV_KEYS)) mapped[key] = env[key.replace('TROUPE_MODEL_', 'TROUPE_SECONDARY_MODEL_')];
  try {
    return modelConfigFromEnv(mapped);
  } catch (error) {
    if (error instanceof ModelConfigError) {
      throw new ModelConfigError(error.problems.map((problem) => problem.replace(/TROUPE_MODEL_/g, 'TROUPE_SECONDARY_MODEL_')));
    }
    throw error;
  }
}
