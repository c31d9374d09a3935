import path from 'node:path';
import { Logger } from '@nestjs/common';
import { describeModelConfig, modelConfigFromEnv } from '@troupe/agent-kit';
import { ModelSpamClassifier, classifierFallback } from './classifier/model-spam-classifier';
import { trainNaiveBayesOnSpamAssassin } from './classifier/spamassassin-training';
import type { SpamClassifier } from './classifier/spam-classifier';
import type { AgentsEnvironment } from './config';
import type { ChainFactory } from './model-chains';
import { ModelReplyDrafter, drafterFallback } from './drafter/model-reply-drafter';
import { TemplateReplyDrafter } from './drafter/template-reply-drafter';
import { RuleSpamQuarantiner } from './quarantine/spam-quarantiner';
import { ExtractiveSummariser } from './summariser/extractive-summariser';
import { ModelSummariser, summariserFallback } from './summariser/model-summariser';
import type { TriageSpecialists } from './tasks/agent-tasks.controller';

/**
 * Builds the triage specialists from configuration: with `TROUPE_MODEL_*` set, the drafter and the
 * summariser (and the classifier with `TROUPE_CLASSIFIER=model`) are model chains from `chains`
 * (primary → `TROUPE_SECONDARY_MODEL_*` → their offline stand-in as the non-LLM fallback, with the
 * process's circuit breakers and the `TROUPE_MODEL_*` resilience settings); otherwise the offline
 * defaults run: naive Bayes trained on the corpus's training split, the template drafter and the
 * extractive summariser. The drafter and summariser chains serve the agent tasks when they are not
 * ReAct runs (`TROUPE_REACT_LOOP=never`).
 *
 * @throws ModelConfigError when `TROUPE_MODEL_*` is set but incomplete; ConfigurationError when
 *   `TROUPE_CLASSIFIER=model` has no model configured.
 */
export async function createTriageSpecialists(env: AgentsEnvironment, processEnv: NodeJS.ProcessEnv, chains: ChainFactory): Promise<TriageSpecialists> {
  const log = new Logger('agents');
  const modelConfig = modelConfigFromEnv(processEnv);
  if (modelConfig !== null) log.log(`model: ${describeModelConfig(modelConfig)}`);

  if (env.TROUPE_CLASSIFIER === 'model' && modelConfig === null) throw new Error('TROUPE_CLASSIFIER=model needs TROUPE_MODEL_PROVIDER and its keys');
  // Naive Bayes: the classifier offline, and the model classifier's non-LLM fallback.
  const trained = await trainNaiveBayesOnSpamAssassin({ cacheFilePath: path.resolve(env.TROUPE_MODEL_CACHE_DIR, 'spam-naive-bayes.json') });
  log.log(
    trained.source === 'cache'
      ? `classifier: ${trained.classifier.name} loaded from cache (${trained.exampleCount} training emails)`
      : `classifier: ${trained.classifier.name} trained on ${trained.exampleCount} emails (parse ${trained.parseMs} ms, learn ${trained.trainingMs} ms)`,
  );
  let classifier: SpamClassifier = trained.classifier;
  if (env.TROUPE_CLASSIFIER === 'model' && modelConfig !== null) {
    const chain = chains(classifierFallback(trained.classifier));
    classifier = new ModelSpamClassifier(chain);
    log.log(`classifier: a model chain ${chain.hops.join(' → ')}`);
  }
  const template = new TemplateReplyDrafter();
  const extractive = new ExtractiveSummariser();
  return {
    classifier,
    drafter: modelConfig === null ? template : new ModelReplyDrafter(chains(drafterFallback(template, 'template'))),
    summariser: modelConfig === null ? extractive : new ModelSummariser(chains(summariserFallback(extractive, 'extractive'))),
    quarantiner: new RuleSpamQuarantiner(),
  };
}
