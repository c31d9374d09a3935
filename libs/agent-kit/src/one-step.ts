import type { z } from 'zod';
import type { ModelUsage } from '@troupe/contracts';
import { AgentKitError } from './errors';
import type { ModelCallOptions, ModelChain } from './model-chain';

/** One structured question of a one-step task (a classifier, a router, a diagnoser): no tools, one answer. */
export interface OneStepQuestion<T> {
  system: string;
  /** The user message: the task's data. */
  prompt: string;
  answerSchema: z.ZodType<T>;
  /** The task's input, for the chain's non-LLM fallback (whose answer must satisfy `answerSchema`). */
  input: unknown;
  /** Output token cap of the model call (tokens). */
  maxOutputTokens?: number;
  temperature?: number;
}

/** What {@link answerOneStep} returns. */
export interface OneStepAnswer<T> {
  value: T;
  /**
   * Who answered: `chain/<provider>/<modelId>`, or `chain/fallback/<name>` with the reason the fallback
   * decided when it was not the models giving up: ` (model answer invalid)`, ` (workflow budget exhausted)`.
   */
  servedBy: string;
  /** The chain call's usage: the model's tokens and cost (an invalid answer's included), 0 when the fallback answered. */
  usage: ModelUsage;
  /** Why no model was asked (the workflow's budget is spent), or null. */
  budgetExhausted: string | null;
}

/** The chain of a one-step task has no non-LLM fallback to decide after an invalid answer. */
export class NoFallbackError extends AgentKitError {
  constructor(hops: string[]) {
    super('MODEL_CHAIN_NO_FALLBACK', `the model's answer was invalid and the chain (${hops.join(' → ')}) has no non-LLM fallback`, { retryable: false });
  }
}

/**
 * Asks a {@link ModelChain} one structured question (primary → secondary → non-LLM fallback, with the
 * chain's timeout, retries and circuit breakers). An answer that fails `answerSchema` is not asked again
 * (the task is one step): the chain's fallback decides instead. With `options.budgetExhausted` no model
 * is asked (see {@link ModelCallOptions}).
 *
 * @throws ModelChainExhaustedError when every hop failed; NoFallbackError after an invalid answer with no fallback.
 */
export async function answerOneStep<T>(chain: ModelChain, question: OneStepQuestion<T>, options: ModelCallOptions = {}): Promise<OneStepAnswer<T>> {
  const { system, prompt, answerSchema, input, maxOutputTokens, temperature } = question;
  const result = await chain.call({ system, transcript: [{ role: 'user', content: prompt }], tools: [], answerSchema, maxOutputTokens, temperature }, input, options);
  const { usage, budgetExhausted } = result;
  if (result.decision.kind === 'answer') {
    const servedBy = `chain/${usage.model}${budgetExhausted === null ? '' : ' (workflow budget exhausted)'}`;
    return { value: answerSchema.parse(result.decision.value), servedBy: servedBy.slice(0, 256), usage, budgetExhausted };
  }
  const fallback = chain.fallback;
  if (fallback === null) throw new NoFallbackError(chain.hops);
  const value = answerSchema.parse(await fallback.answer(input, []));
  return { value, servedBy: `chain/fallback/${fallback.name} (model answer invalid)`.slice(0, 256), usage, budgetExhausted: null };
}
