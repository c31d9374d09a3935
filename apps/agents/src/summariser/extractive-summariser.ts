import type { Email, EmailSummarised } from '@troupe/contracts';
import { senderName } from '@troupe/email-corpus';
import type { EmailSummariser } from './email-summariser';

/** Limits of an extractive summary. */
export interface ExtractiveSummariserOptions {
  /** Sentences taken from the body at most (default 3). */
  maxSentences?: number;
  /** Characters of the whole summary at most (default 600); a longer sentence is cut with `…`. */
  maxChars?: number;
}

/**
 * The summariser used when no language model is configured: no model, only extraction. The summary is
 * `<sender> on "<subject>": ` followed by the first meaningful sentences of the body. Skipped: quoted
 * lines (`>`, `|`), attribution lines (`… wrote:`), forwarded or original-message blocks, the signature
 * (after `-- `), mailing-list footers (after a rule of `_`, `-` or `=`), the header block of a quoted
 * message, "if you cannot read this email" lines, URLs, and sentences of fewer than three words or made
 * mostly of non-words (code, logs). Bounded by {@link ExtractiveSummariserOptions}.
 */
export class ExtractiveSummariser implements EmailSummariser {
  readonly name = 'extractive (non-LLM)';
  private readonly maxSentences: number;
  private readonly maxChars: number;

  constructor(options: ExtractiveSummariserOptions = {}) {
    this.maxSentences = options.maxSentences ?? 3;
    this.maxChars = options.maxChars ?? 600;
  }

  async summarise(email: Email): Promise<EmailSummarised> {
    const sender = senderName(email.from) || 'unknown sender';
    const subject = email.subject.trim().replace(/\s+/g, ' ') || '(no subject)';
    const head = clip(`${sender} on "${subject}":`, Math.floor(this.maxChars / 2));
    let summary = head;
    let taken = 0;
    for (const sentence of meaningfulSentences(email.text)) {
      if (taken === this.maxSentences) break;
      const room = this.maxChars - summary.length - 1;
      if (room < 20) break;
      summary = `${summary} ${clip(sentence, room)}`;
      taken += 1;
    }
    if (taken === 0) summary = `${head} (no body text to summarise)`.slice(0, this.maxChars);
    return { summary, summariser: this.name };
  }
}

/** Sentences of the body's own text, in order, with quoted text, signature and footers removed. */
function meaningfulSentences(text: string): string[] {
  const kept: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '--' || /^_{5,}$|^-{5,}$|^={5,}$/.test(line)) break;
    if (/^-{2,}\s*(original message|forwarded message)/i.test(line) || /^begin forwarded message/i.test(line)) break;
    if (line.startsWith('>') || line.startsWith('|') || /wrote:$|writes:$/i.test(line)) continue;
    // Header lines of a quoted message (`Date: …`, `From: …`) belong to the quote, not to this message.
    if (/^(date|from|to|cc|subject|sent|message-id|reply-to|in-reply-to|references):\s/i.test(line)) continue;
    if (/^if you (can(no|')t|are unable to) (read|see|view) this/i.test(line)) continue;
    const prose = line.replace(/\[?(https?:\/\/|www\.)[^\s\]]*\]?/gi, ' ').replace(/\s+/g, ' ').trim();
    if (prose === '' && line !== '') continue;
    kept.push(prose);
  }
  const prose = kept.join('\n').split(/\n{2,}/).map((paragraph) => paragraph.replace(/\s+/g, ' ').trim());
  const sentences: string[] = [];
  for (const paragraph of prose) {
    for (const sentence of paragraph.split(/(?<=[.!?])\s+(?=["'([]?[A-Z0-9])/)) {
      // Prose, not code or logs: at least three words, most of them plain words.
      const tokens = sentence.split(' ');
      const plainWords = tokens.filter((token) => /^["'(]?[A-Za-z][A-Za-z'’-]*[.,;:!?)"']*$/.test(token)).length;
      if (plainWords >= 3 && plainWords >= 0.6 * tokens.length) sentences.push(sentence);
    }
  }
  return sentences;
}

function clip(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, Math.max(0, maxChars - 1)).trimEnd()}…`;
}
