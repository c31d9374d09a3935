import type { ModelCallOptions } from '@troupe/agent-kit';
import type { Email, EmailClassified, ModelUsage, SpamLabel } from '@troupe/contracts';

/** A classification, and the usage of the model call behind it when a model was called (for the workflow's budget). */
export type Classification = EmailClassified & { usage?: ModelUsage };

/**
 * Decides whether an email is spam. `classify` answers `{ label, confidence, classifier }` where
 * `confidence` is the classifier's probability (0–1) that `label` is right and `classifier` is `name`.
 */
export interface SpamClassifier {
  /** Which classifier this is, e.g. `naive-bayes/spamassassin-train`; carried in every answer. */
  readonly name: string;
  /** `options`: per-call model options (a classifier that calls no model ignores them). */
  classify(email: Email, options?: ModelCallOptions): Promise<Classification>;
}

/**
 * An email with its known label, for training and evaluation. `id` names the example (for the
 * SpamAssassin corpus the `corpusId`, e.g. `easy-ham-1/00001`); it never travels inside `email`.
 */
export interface LabelledEmail {
  id: string;
  email: Email;
  label: SpamLabel;
}
