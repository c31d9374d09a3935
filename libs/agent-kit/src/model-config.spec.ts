import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ModelConfigError } from './errors';
import { createLanguageModel, modelLabel } from './language-model';
import { describeModelConfig, modelConfigFromEnv } from './model-config';

const KEY = 'sk-test-0123456789-very-secret';

function configError(env: NodeJS.ProcessEnv): ModelConfigError {
  try {
    modelConfigFromEnv(env);
  } catch (error) {
    if (error instanceof ModelConfigError) return error;
    throw error;
  }
  throw new Error('expected a ModelConfigError');
}

describe('modelConfigFromEnv', () => {
  it('means no model when TROUPE_MODEL_PROVIDER is absent or empty', () => {
    expect(modelConfigFromEnv({})).toBeNull();
    expect(modelConfigFromEnv({ TROUPE_MODEL_PROVIDER: '  ' })).toBeNull();
    expect(describeModelConfig(null)).toBe('no language model configured');
  });

  it('reads an OpenAI configuration', () => {
    const config = modelConfigFromEnv({ TROUPE_MODEL_PROVIDER: 'openai', TROUPE_MODEL_NAME: 'gpt-4o-mini', TROUPE_MODEL_API_KEY: KEY });
    expect(config).toMatchObject({ provider: 'openai', modelName: 'gpt-4o-mini', baseUrl: null });
    expect(config?.apiKey?.reveal()).toBe(KEY);
  });

  it('reads an OpenAI-compatible configuration without a key', () => {
    const config = modelConfigFromEnv({
      TROUPE_MODEL_PROVIDER: 'openai-compatible',
      TROUPE_MODEL_NAME: 'llama3.1:8b',
      TROUPE_MODEL_BASE_URL: 'http://localhost:11434/v1',
    });
    expect(config).toMatchObject({ provider: 'openai-compatible', modelName: 'llama3.1:8b', baseUrl: 'http://localhost:11434/v1', apiKey: null });
  });

  it('names every bad key at once', () => {
    const error = configError({ TROUPE_MODEL_PROVIDER: 'openai-compatible', TROUPE_MODEL_BASE_URL: 'not a url' });
    expect(error.code).toBe('MODEL_CONFIG_INVALID');
    expect(error.problems.join('\n')).toMatch(/TROUPE_MODEL_NAME: required/);
    expect(error.problems.join('\n')).toMatch(/TROUPE_MODEL_BASE_URL: must be an http\(s\) URL/);

    const missing = configError({ TROUPE_MODEL_PROVIDER: 'openai-compatible' });
    expect(missing.problems).toEqual([
      'TROUPE_MODEL_NAME: required when TROUPE_MODEL_PROVIDER is set',
      'TROUPE_MODEL_BASE_URL: required for openai-compatible',
    ]);
  });

  it('rejects an unknown provider and a missing key for hosted providers', () => {
    expect(configError({ TROUPE_MODEL_PROVIDER: 'gemini', TROUPE_MODEL_NAME: 'x' }).problems[0]).toMatch(/^TROUPE_MODEL_PROVIDER:/);
    expect(configError({ TROUPE_MODEL_PROVIDER: 'anthropic', TROUPE_MODEL_NAME: 'claude' }).problems).toEqual([
      'TROUPE_MODEL_API_KEY: required for anthropic',
    ]);
  });

  it('rejects model settings without a provider instead of ignoring them', () => {
    expect(configError({ TROUPE_MODEL_NAME: 'gpt-4o', TROUPE_MODEL_API_KEY: KEY }).problems).toEqual([
      'TROUPE_MODEL_NAME: set, but TROUPE_MODEL_PROVIDER is not',
      'TROUPE_MODEL_API_KEY: set, but TROUPE_MODEL_PROVIDER is not',
    ]);
  });

  it('never shows the API key in errors, JSON, inspection or descriptions', () => {
    const error = configError({ TROUPE_MODEL_PROVIDER: 'nope', TROUPE_MODEL_API_KEY: KEY });
    expect(error.message).not.toContain(KEY);
    const config = modelConfigFromEnv({ TROUPE_MODEL_PROVIDER: 'anthropic', TROUPE_MODEL_NAME: 'claude-sonnet-4-5', TROUPE_MODEL_API_KEY: KEY });
    expect(JSON.stringify(config)).not.toContain(KEY);
    expect(inspect(config, { depth: 5 })).not.toContain(KEY);
    expect(String(config?.apiKey)).toBe('[secret]');
    expect(describeModelConfig(config)).toBe('anthropic model claude-sonnet-4-5 at default endpoint (API key set)');
  });
});

describe('createLanguageModel', () => {
  it('creates a model of each provider without calling it', () => {
    const openai = createLanguageModel({ provider: 'openai', modelName: 'gpt-4o-mini', baseUrl: null, apiKey: null });
    const anthropic = createLanguageModel({ provider: 'anthropic', modelName: 'claude-sonnet-4-5', baseUrl: null, apiKey: null });
    const local = createLanguageModel({ provider: 'openai-compatible', modelName: 'llama3.1:8b', baseUrl: 'http://localhost:11434/v1', apiKey: null });
    expect(openai.modelId).toBe('gpt-4o-mini');
    expect(modelLabel(openai)).toMatch(/^openai/);
    expect(modelLabel(anthropic)).toMatch(/^anthropic.*\/claude-sonnet-4-5$/);
    expect(modelLabel(local)).toBe('openai-compatible.chat/llama3.1:8b');
  });
});
