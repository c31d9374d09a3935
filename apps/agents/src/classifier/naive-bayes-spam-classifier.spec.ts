import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmailClassified, type Email } from '@troupe/contracts';
import { loadSpamAssassinCorpus, splitOf, type CorpusEmail } from '@troupe/email-corpus';
import { evaluateSpamClassifier, type SpamEvaluation } from './evaluate';
import { NaiveBayesSpamClassifier, trainingKey } from './naive-bayes-spam-classifier';
import type { LabelledEmail } from './spam-classifier';
import { spamAssassinExamples, trainNaiveBayesOnSpamAssassin } from './spamassassin-training';

// Trains once on the corpus train split (about 5 s: load, parse, learn) and evaluates on the test split.
describe('NaiveBayesSpamClassifier on the SpamAssassin corpus', () => {
  let corpus: CorpusEmail[];
  let classifier: NaiveBayesSpamClassifier;
  let testExamples: LabelledEmail[];
  let evaluation: SpamEvaluation;
  let cacheDir: string;

  beforeAll(async () => {
    corpus = loadSpamAssassinCorpus();
    cacheDir = await mkdtemp(path.join(tmpdir(), 'troupe-nb-'));
    const trained = await trainNaiveBayesOnSpamAssassin({ corpus, cacheFilePath: path.join(cacheDir, 'model.json') });
    expect(trained.source).toBe('trained');
    classifier = trained.classifier;
    testExamples = await spamAssassinExamples(corpus, 'test');
    evaluation = await evaluateSpamClassifier(classifier, testExamples);
  }, 60_000);

  afterAll(async () => {
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('trains on the train split only and is scored on test emails it never saw', () => {
    const trainIds = corpus.filter((message) => splitOf(message.corpusId) === 'train').map((message) => message.corpusId);
    expect(classifier.trainingKey).toBe(trainingKey(trainIds));
    expect(classifier.examples.spam + classifier.examples.ham).toBe(trainIds.length);
    const trainSet = new Set(trainIds);
    expect(testExamples.length).toBeGreaterThan(2_500);
    expect(testExamples.some((example) => trainSet.has(example.id))).toBe(false);
    expect(new Set(testExamples.map((example) => example.label))).toEqual(new Set(['spam', 'ham']));
  });

  it('classifies the test split with accuracy above 0.9', () => {
    expect(evaluation.examples).toBe(testExamples.length);
    expect(evaluation.accuracy).toBeGreaterThan(0.9);
    expect(evaluation.precision).toBeGreaterThan(0.9);
    expect(evaluation.recall).toBeGreaterThan(0.85);
  });

  it('answers with the EmailClassified shape and a posterior as confidence', async () => {
    const answer = await classifier.classify(testExamples[0].email);
    expect(EmailClassified.parse(answer)).toEqual(answer);
    expect(answer.classifier).toBe('naive-bayes/spamassassin-train');
    expect(answer.confidence).toBeGreaterThanOrEqual(0.5);
    const spamProbability = classifier.spamProbability(testExamples[0].email);
    expect(answer.confidence).toBeCloseTo(answer.label === 'spam' ? spamProbability : 1 - spamProbability, 12);
  });

  it('reloads the cached model instead of training, with identical answers', async () => {
    const again = await trainNaiveBayesOnSpamAssassin({ corpus, cacheFilePath: path.join(cacheDir, 'model.json') });
    expect(again.source).toBe('cache');
    for (const example of testExamples.slice(0, 50)) {
      expect(await again.classifier.classify(example.email)).toEqual(await classifier.classify(example.email));
    }
  });

  it('ignores a cache trained on other examples or of another format', async () => {
    const file = path.join(cacheDir, 'model.json');
    const saved = JSON.parse(await readFile(file, 'utf8'));
    expect(await NaiveBayesSpamClassifier.loadFile(file, trainingKey(['other']))).toBeNull();
    await writeFile(file, JSON.stringify({ ...saved, formatVersion: 0 }));
    expect(await NaiveBayesSpamClassifier.loadFile(file, classifier.trainingKey)).toBeNull();
    await writeFile(file, 'not json');
    expect(await NaiveBayesSpamClassifier.loadFile(file, classifier.trainingKey)).toBeNull();
    expect(await NaiveBayesSpamClassifier.loadFile(path.join(cacheDir, 'missing.json'), classifier.trainingKey)).toBeNull();
  });
});

describe('NaiveBayesSpamClassifier on hand-made examples', () => {
  const email = (subject: string, text: string): Email => ({ messageId: '', from: '', to: '', subject, date: null, text, headers: {}, origin: {} });
  const examples: LabelledEmail[] = [
    { id: '1', email: email('cheap pills', 'buy cheap pills now limited offer viagra money'), label: 'spam' },
    { id: '2', email: email('win money', 'you win money now click offer free cash'), label: 'spam' },
    { id: '3', email: email('meeting notes', 'the kernel patch review meeting moved to thursday'), label: 'ham' },
    { id: '4', email: email('patch review', 'please review my patch for the build scripts before thursday'), label: 'ham' },
    { id: '5', email: email('lunch', 'shall we discuss the release over lunch thursday'), label: 'ham' },
  ];

  it('learns the obvious', async () => {
    const classifier = NaiveBayesSpamClassifier.train(examples, 'naive-bayes/hand-made');
    expect((await classifier.classify(email('free offer', 'click now to win cheap money'))).label).toBe('spam');
    expect((await classifier.classify(email('review', 'kernel patch meeting on thursday'))).label).toBe('ham');
  });

  it('falls back to the class priors for an email of unknown words only', async () => {
    const classifier = NaiveBayesSpamClassifier.train(examples);
    expect(await classifier.classify(email('', 'zzzz qqqq'))).toEqual({ label: 'ham', confidence: 0.6, classifier: 'naive-bayes/spamassassin-train' });
  });

  it('refuses to train without both labels', () => {
    expect(() => NaiveBayesSpamClassifier.train(examples.filter((example) => example.label === 'ham'))).toThrow(RangeError);
  });

  it('round-trips through its saved form', async () => {
    const classifier = NaiveBayesSpamClassifier.train(examples);
    const restored = NaiveBayesSpamClassifier.fromSaved(JSON.parse(JSON.stringify(classifier.toSaved())));
    const probe = email('offer', 'cheap patch');
    expect(restored.spamProbability(probe)).toBe(classifier.spamProbability(probe));
    expect(() => NaiveBayesSpamClassifier.fromSaved({ format: 'something else' })).toThrow(/saved naive Bayes model failed validation/);
  });
});
