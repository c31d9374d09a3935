import type { Email, ReplyDrafted } from '@troupe/contracts';
import { senderName } from '@troupe/email-corpus';
import { replyRecipient, replySubject, type ReplyDrafter } from './reply-drafter';

/** Lines of the original message the template quotes. */
const QUOTED_LINES = 6;
/** Characters per quoted line before it is cut with `…`. */
const QUOTED_LINE_CHARS = 160;

/**
 * The drafter used when no language model is configured. It is a fixed template, not a language
 * model, and says so in its name and its reasoning: it greets the sender by name, acknowledges the
 * subject, quotes the first lines of the message (skipping quoted text and blank lines) and promises a
 * proper answer. It never answers the content. `to` is Reply-To or From; the subject gets `Re:`.
 */
export class TemplateReplyDrafter implements ReplyDrafter {
  readonly name = 'template (non-LLM)';

  async draft(email: Email): Promise<ReplyDrafted> {
    const name = senderName(email.headers['reply-to'] ?? '') || senderName(email.from);
    const subject = email.subject.trim();
    const quoted = openingLines(email.text);
    const body = [
      name === '' ? 'Hello,' : `Hello ${name},`,
      '',
      subject === ''
        ? 'Thank you for your message. I have received it and will reply properly as soon as I can.'
        : `Thank you for your message about "${subject}". I have received it and will reply properly as soon as I can.`,
      ...(quoted.length > 0 ? ['', 'You wrote:', ...quoted.map((line) => `> ${line}`)] : []),
      '',
      'Best regards',
    ].join('\n');
    return {
      to: replyRecipient(email),
      subject: replySubject(email.subject),
      body,
      reasoning:
        `Template reply from the non-LLM template drafter (no language model answered: none is configured, or the chain's models failed or were skipped; its journaled attempts say which): it acknowledges ` +
        `${name === '' ? 'the sender' : name} and the subject and quotes the first ${quoted.length} line(s) of the message. ` +
        'It does not answer the content; edit it before sending.',
      drafter: this.name,
    };
  }
}

/** The first non-blank lines of a message, without quoted text, attribution lines or the signature. */
function openingLines(text: string): string[] {
  const lines: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '--' || /^-{2,}\s*original message\s*-{2,}$/i.test(line)) break;
    if (line === '' || line.startsWith('>') || /wrote:$/i.test(line)) continue;
    lines.push(line.length > QUOTED_LINE_CHARS ? `${line.slice(0, QUOTED_LINE_CHARS)}…` : line);
    if (lines.length === QUOTED_LINES) break;
  }
  return lines;
}
