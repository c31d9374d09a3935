import nlpUtils from 'wink-nlp-utils';
import type { Email } from '@troupe/contracts';

/** Characters of subject plus body the classifier reads; the rest of a long email is ignored. */
export const SPAM_TOKEN_MAX_CHARS = 20_000;

/**
 * The words naive Bayes sees of an email: subject and body (first {@link SPAM_TOKEN_MAX_CHARS}
 * characters), lower-cased, split on non-word characters (wink-nlp-utils `tokenize0`), English stop words
 * removed (wink's list), and tokens dropped that are shorter than 2 or longer than 24 characters, all
 * digits, or contain `_` (base64 and separator noise). No stemming: it cost 3x the time and did not help
 * on this corpus. Headers are not read.
 */
export function spamTokens(email: Pick<Email, 'subject' | 'text'>): string[] {
  const text = nlpUtils.string.lowerCase(`${email.subject}\n${email.text}`.slice(0, SPAM_TOKEN_MAX_CHARS));
  const words = nlpUtils.string
    .tokenize0(text)
    .filter((word) => word.length >= 2 && word.length <= 24 && !/^\d+$/.test(word) && !word.includes('_'));
  return nlpUtils.tokens.removeWords(words);
}
