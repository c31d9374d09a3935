import type { LabelledEmail, SpamClassifier } from './spam-classifier';

/**
 * How a spam classifier did on labelled emails, spam being the positive class. Ratios are 0–1, or null
 * when undefined (precision with no spam predicted, recall with no spam present).
 */
export interface SpamEvaluation {
  classifier: string;
  examples: number;
  truePositives: number;
  falsePositives: number;
  trueNegatives: number;
  falseNegatives: number;
  /** (TP + TN) / examples. */
  accuracy: number | null;
  /** TP / (TP + FP): of the emails called spam, the share that was spam. */
  precision: number | null;
  /** TP / (TP + FN): of the spam, the share caught. */
  recall: number | null;
  /** Harmonic mean of precision and recall. */
  f1: number | null;
}

/**
 * Classifies every example and counts the outcomes. Evaluate only on emails the classifier was not
 * trained on (for the SpamAssassin corpus: the `test` split). Examples are classified one at a time.
 */
export async function evaluateSpamClassifier(classifier: SpamClassifier, examples: readonly LabelledEmail[]): Promise<SpamEvaluation> {
  let truePositives = 0;
  let falsePositives = 0;
  let trueNegatives = 0;
  let falseNegatives = 0;
  for (const example of examples) {
    const { label } = await classifier.classify(example.email);
    if (label === 'spam') {
      if (example.label === 'spam') truePositives += 1;
      else falsePositives += 1;
    } else if (example.label === 'spam') falseNegatives += 1;
    else trueNegatives += 1;
  }
  const precision = ratio(truePositives, truePositives + falsePositives);
  const recall = ratio(truePositives, truePositives + falseNegatives);
  return {
    classifier: classifier.name,
    examples: examples.length,
    truePositives,
    falsePositives,
    trueNegatives,
    falseNegatives,
    accuracy: ratio(truePositives + trueNegatives, examples.length),
    precision,
    recall,
    f1: precision === null || recall === null || precision + recall === 0 ? null : (2 * precision * recall) / (precision + recall),
  };
}

function ratio(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : numerator / denominator;
}
