import type { EmailQuarantined, QuarantineTaskInput } from '@troupe/contracts';

/** Moves a spam email to quarantine and says why. `quarantine` answers `email.quarantined` with `quarantinedBy` = `name`. */
export interface SpamQuarantiner {
  readonly name: string;
  quarantine(task: QuarantineTaskInput): Promise<EmailQuarantined>;
}

/** Spam signals the rule quarantiner names in its reason, each a test over subject and body. */
const SIGNALS: Array<{ name: string; test: (subject: string, text: string) => boolean }> = [
  { name: 'shouting subject', test: (subject) => subject.length >= 8 && subject === subject.toUpperCase() && /[A-Z]/.test(subject) },
  { name: 'money or prize wording', test: (subject, text) => /\b(free|cash|winner|prize|\$\d|million|credit|loan|mortgage)\b/i.test(`${subject} ${text}`) },
  { name: 'many links', test: (_subject, text) => (text.match(/https?:\/\//g) ?? []).length >= 5 },
  { name: 'remove-me footer', test: (_subject, text) => /\b(to be removed|remove me|unsubscribe)\b/i.test(text) },
  { name: 'urgency', test: (subject, text) => /\b(act now|limited time|urgent|don't miss)\b/i.test(`${subject} ${text}`) },
];

/**
 * The quarantine agent without a language model: it quarantines every spam email it is given (the
 * workflow decided the label) and writes the reason from the classification or the reviewer, plus the
 * spam signals it finds in the subject and body. It does not look up the sender's history
 * (`senderMessageCount` null); the ReAct version does, with `sender_history`.
 */
export class RuleSpamQuarantiner implements SpamQuarantiner {
  readonly name = 'rules (non-LLM)';

  async quarantine({ email, classification, reviewedBy }: QuarantineTaskInput): Promise<EmailQuarantined> {
    const signals = SIGNALS.filter((signal) => signal.test(email.subject, email.text)).map((signal) => signal.name);
    const why =
      reviewedBy !== null
        ? `confirmed as spam by ${reviewedBy} at review`
        : classification === null
          ? 'labelled spam'
          : `classified spam by ${classification.classifier} with ${Math.round(classification.confidence * 100)}% confidence`;
    return {
      folder: 'quarantine',
      reason: `${why}; signals: ${signals.length === 0 ? 'none found by the rules' : signals.join(', ')}.`,
      senderMessageCount: null,
      quarantinedBy: this.name,
    };
  }
}
