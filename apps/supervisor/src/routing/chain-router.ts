import { answerOneStep, formatEmailForPrompt, type ModelCallOptions, type ModelChain, type NonLlmFallback } from '@troupe/agent-kit';
import { EmailTaskInput, type Email } from '@troupe/contracts';
import type { HeaderRuleRouter } from './header-rule-router';
import { ModelRouteAnswer, ROUTER_SYSTEM_PROMPT } from './model-router';
import type { RoutingDecision, TriageRouter } from './triage-router';

/**
 * A router over a {@link ModelChain}: the configured model(s) with cockatiel's timeout, retry and
 * circuit breaker, then the header rules ({@link headerRuleFallback}) as the non-LLM fallback
 * ({@link answerOneStep}). An answer that fails {@link ModelRouteAnswer} is not retried here (routing is
 * one step): the header rules decide instead, and `router` says which one served (`chain/<model>` or
 * `chain/fallback/header-rules`, with why when it was not the model giving up). `usage` is the chain's
 * (tokens and cost of the call that answered, an invalid answer included).
 */
export class ChainRouter implements TriageRouter {
  readonly name = 'chain';

  constructor(private readonly chain: ModelChain) {}

  /**
   * `options.budgetExhausted`: the workflow's budget is spent, the header rules decide without asking the
   * model, and the decision's reason says so.
   */
  async route(email: Email, options: ModelCallOptions = {}): Promise<RoutingDecision> {
    const answer = await answerOneStep(
      this.chain,
      { system: ROUTER_SYSTEM_PROMPT, prompt: formatEmailForPrompt(email, { maxTextChars: 3_000 }), answerSchema: ModelRouteAnswer, input: { email } },
      options,
    );
    const reason = answer.budgetExhausted === null ? answer.value.reason : `${answer.value.reason} (the model was not asked: ${answer.budgetExhausted})`;
    return { ...answer.value, reason: reason.slice(0, 4_000), router: answer.servedBy, usage: answer.usage };
  }
}

/** The header rules as the chain's non-LLM fallback: `{ route, confidence, reason }` from the task input `{ email }`. */
export function headerRuleFallback(rules: HeaderRuleRouter): NonLlmFallback {
  return {
    name: 'header-rules',
    answer: async (input: unknown) => {
      const { route, confidence, reason } = await rules.route(EmailTaskInput.parse(input).email);
      // The answer schema's limit: the rules may name more evidence than a model's one sentence.
      return { route, confidence, reason: reason.slice(0, 1_000) };
    },
  };
}
