import { performance } from 'node:perf_hooks';
import { corpusSplit, loadSpamAssassinCorpus, parseCorpusEmail, type CorpusEmail, type CorpusSplit } from '@troupe/email-corpus';
import { NaiveBayesSpamClassifier, trainingKey } from './naive-bayes-spam-classifier';
import type { LabelledEmail } from './spam-classifier';

/**
 * Parses the messages of one split of the SpamAssassin corpus into labelled emails (`id` = corpus id).
 * About 1 ms per message.
 */
export async function spamAssassinExamples(corpus: readonly CorpusEmail[], split: CorpusSplit): Promise<LabelledEmail[]> {
  const examples: LabelledEmail[] = [];
  for (const message of corpusSplit(corpus, split)) {
    examples.push({ id: message.corpusId, email: await parseCorpusEmail(message), label: message.label });
  }
  return examples;
}

/** Options of {@link trainNaiveBayesOnSpamAssassin}. */
export interface SpamAssassinTrainingOptions {
  /**
   * Where the trained model is cached as JSON (about 1 MB). When the file holds a model of the same
   * training set and format version it is loaded instead of training; otherwise the model is trained and
   * the file (re)written. Null or absent: no cache.
   */
  cacheFilePath?: string | null;
  /** The corpus, if the caller has loaded it already (default: {@link loadSpamAssassinCorpus}). */
  corpus?: readonly CorpusEmail[];
}

/** The classifier and how it was obtained. Times are wall-clock milliseconds. */
export interface SpamAssassinTrainingResult {
  classifier: NaiveBayesSpamClassifier;
  /** `cache` when loaded from `cacheFilePath`, `trained` otherwise. */
  source: 'cache' | 'trained';
  /** Training examples (the corpus `train` split). */
  exampleCount: number;
  /** Parsing the training emails (0 when loaded from the cache). */
  parseMs: number;
  /** Tokenising and learning (0 when loaded from the cache). */
  trainingMs: number;
}

/**
 * The offline spam classifier: naive Bayes trained on the `train` split of the SpamAssassin corpus
 * (`splitOf` from `@troupe/email-corpus`), never on a `test` message. Loads the cached model when
 * `cacheFilePath` holds one for exactly these training ids, else trains (about 5 s in all: 1 s to load
 * the corpus, 3–4 s to parse 3,000 emails, 1 s to learn) and writes the cache.
 *
 * @throws CorpusLoadError when the corpus package is missing.
 */
export async function trainNaiveBayesOnSpamAssassin(options: SpamAssassinTrainingOptions = {}): Promise<SpamAssassinTrainingResult> {
  const corpus = options.corpus ?? loadSpamAssassinCorpus();
  const trainingIds = corpusSplit(corpus, 'train').map((message) => message.corpusId);
  const key = trainingKey(trainingIds);
  const cacheFilePath = options.cacheFilePath ?? null;
  if (cacheFilePath !== null) {
    const cached = await NaiveBayesSpamClassifier.loadFile(cacheFilePath, key);
    if (cached !== null) return { classifier: cached, source: 'cache', exampleCount: trainingIds.length, parseMs: 0, trainingMs: 0 };
  }
  const parseStart = performance.now();
  const examples = await spamAssassinExamples(corpus, 'train');
  const trainingStart = performance.now();
  const classifier = NaiveBayesSpamClassifier.train(examples);
  const trainingEnd = performance.now();
  if (cacheFilePath !== null) await classifier.saveFile(cacheFilePath);
  return {
    classifier,
    source: 'trained',
    exampleCount: examples.length,
    parseMs: Math.round(trainingStart - parseStart),
    trainingMs: Math.round(trainingEnd - trainingStart),
  };
}
