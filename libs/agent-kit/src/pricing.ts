import { z } from 'zod';
import { ModelConfigError } from './errors';

/** Price of one model in USD per million tokens, input and output. */
export const ModelPrice = z.object({
  inputUsdPerMillionTokens: z.number().nonnegative(),
  outputUsdPerMillionTokens: z.number().nonnegative(),
});
export type ModelPrice = z.infer<typeof ModelPrice>;

/**
 * Prices per model, keyed by model id (`gpt-4o-mini`) or by `provider/modelId`; the longer key wins.
 * A model without a price costs 0 USD and is named by {@link costOf} so it shows in the usage record.
 */
export type PriceTable = Record<string, ModelPrice>;

/** The environment variable holding the price table as JSON, e.g. `{"gpt-4o-mini":{"inputUsdPerMillionTokens":0.15,"outputUsdPerMillionTokens":0.6}}`. */
export const MODEL_PRICES_ENV_KEY = 'TROUPE_MODEL_PRICES';

/**
 * Reads {@link MODEL_PRICES_ENV_KEY}; an empty table when unset.
 *
 * @throws ModelConfigError when the value is not JSON or not a table of {@link ModelPrice}.
 */
export function priceTableFromEnv(env: NodeJS.ProcessEnv): PriceTable {
  const raw = env[MODEL_PRICES_ENV_KEY];
  if (raw === undefined || raw.trim() === '') return {};
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new ModelConfigError([`${MODEL_PRICES_ENV_KEY}: not JSON (${(error as Error).message})`]);
  }
  const parsed = z.record(z.string(), ModelPrice).safeParse(json);
  if (!parsed.success) {
    throw new ModelConfigError(parsed.error.issues.map((issue) => `${MODEL_PRICES_ENV_KEY}.${issue.path.join('.')}: ${issue.message}`));
  }
  return parsed.data;
}

/**
 * Cost in USD of `inputTokens` and `outputTokens` on `model` (`provider/modelId`): tokens × price per
 * million ÷ 1,000,000. `priced` is false when the table has no price for the model (cost 0).
 */
export function costOf(prices: PriceTable, model: string, inputTokens: number, outputTokens: number): { costUsd: number; priced: boolean } {
  const modelId = model.includes('/') ? model.slice(model.indexOf('/') + 1) : model;
  const price = prices[model] ?? prices[modelId];
  if (price === undefined) return { costUsd: 0, priced: false };
  return {
    costUsd: (inputTokens * price.inputUsdPerMillionTokens + outputTokens * price.outputUsdPerMillionTokens) / 1_000_000,
    priced: true,
  };
}
