import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import naiveBayesTextClassifier from 'wink-naive-bayes-text-classifier';
import { z } from 'zod';
import { parseOrThrow, type Email, type EmailClassified, type SpamLabel } from '@troupe/contracts';
import type { LabelledEmail, SpamClassifier } from './spam-classifier';
import { spamTokens } from './spam-tokens';

type WinkClassifier = ReturnType<typeof naiveBayesTextClassifier>;

/** Version of the saved model format and of {@link spamTokens}; bump it when either changes. */
export const NAIVE_BAYES_MODEL_FORMAT_VERSION = 1;

/** Additive smoothing of word counts (wink's `smoothingFactor`, 0–1). */
const SMOOTHING_FACTOR = 0.5;

/** A trained model as saved to disk (JSON). `model` is wink's own export. */
export const SavedNaiveBayesModel = z.object({
  format: z.literal('troupe/naive-bayes-spam'),
  formatVersion: z.literal(NAIVE_BAYES_MODEL_FORMAT_VERSION),
  /** {@link trainingKey} of the examples it learned from. */
  trainingKey: z.string().regex(/^[0-9a-f]{64}$/),
  name: z.string().min(1).max(256),
  examples: z.object({ spam: z.number().int().nonnegative(), ham: z.number().int().nonnegative() }),
  model: z.string().min(2),
});
export type SavedNaiveBayesModel = z.infer<typeof SavedNaiveBayesModel>;

/**
 * Identifies a training set: SHA-256 (hex) of the model format version and the sorted example ids. A
 * saved model is reused only when its key equals the key of the examples it would be trained on.
 */
export function trainingKey(exampleIds: readonly string[]): string {
  const hash = createHash('sha256').update(`naive-bayes-spam:v${NAIVE_BAYES_MODEL_FORMAT_VERSION}\n`);
  for (const id of [...exampleIds].sort()) hash.update(`${id}\n`);
  return hash.digest('hex');
}

/**
 * A multinomial naive Bayes spam filter (wink-naive-bayes-text-classifier) over {@link spamTokens}.
 *
 * `confidence` is the posterior probability of the winning label: wink's odds for spam are
 * `log2 P(spam | words) − log2 P(ham | words)` (class priors included), so P(spam | words) =
 * 1 / (1 + 2^−odds). Naive Bayes is known to be over-confident on long texts; many answers are at or
 * near 1. An email with no word the model has seen is judged by the class priors of the training set alone.
 *
 * Train it on the SpamAssassin `train` split only (see `trainNaiveBayesOnSpamAssassin`) and evaluate
 * it on the `test` split.
 */
export class NaiveBayesSpamClassifier implements SpamClassifier {
  readonly name: string;
  /** {@link trainingKey} of the examples it learned from. */
  readonly trainingKey: string;
  /** Number of training examples per label. */
  readonly examples: Readonly<Record<SpamLabel, number>>;
  private readonly model: WinkClassifier;

  private constructor(model: WinkClassifier, name: string, key: string, examples: Record<SpamLabel, number>) {
    this.model = model;
    this.name = name;
    this.trainingKey = key;
    this.examples = examples;
  }

  /**
   * Learns from `examples` (both labels needed). Synchronous and CPU-bound: about 1 s for the 3,000
   * emails of the SpamAssassin train split on one core.
   *
   * @param name the classifier's name in answers (default `naive-bayes/spamassassin-train`).
   * @throws RangeError when a label has no example or the vocabulary is tiny (wink needs 10 words).
   */
  static train(examples: readonly LabelledEmail[], name = 'naive-bayes/spamassassin-train'): NaiveBayesSpamClassifier {
    const counts: Record<SpamLabel, number> = { spam: 0, ham: 0 };
    for (const example of examples) counts[example.label] += 1;
    if (counts.spam === 0 || counts.ham === 0) throw new RangeError('naive Bayes needs training examples of both labels');
    const model = newWinkClassifier();
    for (const example of examples) model.learn(spamTokens(example.email), example.label);
    try {
      model.consolidate();
    } catch (error) {
      throw new RangeError(`naive Bayes could not learn from these examples: ${(error as Error).message}`, { cause: error });
    }
    return new NaiveBayesSpamClassifier(model, name, trainingKey(examples.map((example) => example.id)), counts);
  }

  /**
   * Restores a model saved with {@link NaiveBayesSpamClassifier.toSaved}.
   *
   * @throws SchemaValidationError when `saved` is not a model of this format version.
   */
  static fromSaved(saved: unknown): NaiveBayesSpamClassifier {
    const checked = parseOrThrow(SavedNaiveBayesModel, saved, 'saved naive Bayes model');
    const model = newWinkClassifier();
    model.importJSON(checked.model);
    model.consolidate();
    return new NaiveBayesSpamClassifier(model, checked.name, checked.trainingKey, checked.examples);
  }

  /**
   * Reads a saved model from `filePath` if it was trained on exactly the examples `expectedTrainingKey`
   * names. Returns null when the file is missing, unreadable, of another format version or for another
   * training set: the caller trains afresh (and may overwrite the file).
   */
  static async loadFile(filePath: string, expectedTrainingKey: string): Promise<NaiveBayesSpamClassifier | null> {
    let saved: unknown;
    try {
      saved = JSON.parse(await readFile(filePath, 'utf8'));
    } catch {
      return null;
    }
    const checked = SavedNaiveBayesModel.safeParse(saved);
    if (!checked.success || checked.data.trainingKey !== expectedTrainingKey) return null;
    return NaiveBayesSpamClassifier.fromSaved(checked.data);
  }

  /** The model as JSON-ready data (about 1 MB for the SpamAssassin train split). */
  toSaved(): SavedNaiveBayesModel {
    return {
      format: 'troupe/naive-bayes-spam',
      formatVersion: NAIVE_BAYES_MODEL_FORMAT_VERSION,
      trainingKey: this.trainingKey,
      name: this.name,
      examples: { ...this.examples },
      model: this.model.exportJSON(),
    };
  }

  /** Writes the model to `filePath` (directories created; written to a temporary file, then renamed). */
  async saveFile(filePath: string): Promise<void> {
    await mkdir(path.dirname(filePath), { recursive: true });
    const temporary = `${filePath}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(this.toSaved()), 'utf8');
    await rename(temporary, filePath);
  }

  /** P(spam | words of `email`), 0–1. */
  spamProbability(email: Pick<Email, 'subject' | 'text'>): number {
    const [best] = this.model.computeOdds(spamTokens(email));
    const [label, odds] = best;
    if (label === 'unknown') return this.examples.spam / (this.examples.spam + this.examples.ham);
    const logOddsOfSpam = label === 'spam' ? odds : -odds;
    return 1 / (1 + Math.pow(2, -logOddsOfSpam));
  }

  async classify(email: Email): Promise<EmailClassified> {
    const probability = this.spamProbability(email);
    // A tie goes to ham: wrongly hiding a real email costs more than letting a spam through.
    const label: SpamLabel = probability > 0.5 ? 'spam' : 'ham';
    return { label, confidence: label === 'spam' ? probability : 1 - probability, classifier: this.name };
  }
}

function newWinkClassifier(): WinkClassifier {
  const model = naiveBayesTextClassifier();
  // Input arrives already tokenised by spamTokens.
  model.definePrepTasks([]);
  model.defineConfig({ considerOnlyPresence: false, smoothingFactor: SMOOTHING_FACTOR });
  return model;
}
