import { formatEmailForPrompt, type ModelChain } from '@troupe/agent-kit';
import { EmailTaskInput, type Email } from '@troupe/contracts';
import type { HeaderRuleRouter } from './header-rule-router';
import { ModelRouteAnswer, ROUTER_SYSTEM_PROMPT } from './model-router';
import type { RoutingDecision, TriageRouter } from './triage-router';

/**
 * A router over a {@link ModelChain}: the configured model(s) with cockatiel's timeout, retry and
 * circuit breaker, then the header rules as the non-LLM fallback. An answer that fails
 * {@link ModelRouteAnswer} is not retried here (routing is one step): the header rules decide instead,
 * and `router` says which one served (`chain/<model>` or `chain/fallback/header-rules`). `usage` is the
 * chain's (tokens and cost of the call that answered, an invalid answer included).
 */
export class ChainRouter implements TriageRouter {
  readonly name = 'chain';

  constructor(
    private readonly chain: ModelChain,
    private readonly rules: HeaderRuleRouter,
  ) {}

  async route(email: Email): Promise<RoutingDecision> {
    const result = await this.chain.call(
      { system: ROUTER_SYSTEM_PROMPT, transcript: [{ role: 'user', content: formatEmailForPrompt(email, { maxTextChars: 3_000 }) }], tools: [], answerSchema: ModelRouteAnswer },
      { email },
    );
    if (result.decision.kind === 'answer') {
      const answer = ModelRouteAnswer.parse(result.decision.value);
      return { ...answer, router: `chain/${result.usage.model}`.slice(0, 256), usage: result.usage };
    }
    const ruled = await this.rules.route(email);
    return { ...ruled, router: `chain/fallback/${this.rules.name} (model answer invalid)`.slice(0, 256), usage: result.usage };
  }
}

/** The header rules as the chain's non-LLM fallback: `{ route, confidence, reason }` from the task input `{ email }`. */
export function headerRuleFallback(rules: HeaderRuleRouter) {
  return {
    name: 'header-rules',
    answer: async (input: unknown) => {
      const { route, confidence, reason } = await rules.route(EmailTaskInput.parse(input).email);
      return { route, confidence, reason };
    },
  };
}
