import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { Email, MAX_EMAIL_TEXT_CHARS } from '@troupe/contracts';
import { corpusOrigin, type CorpusEmail } from './spam-assassin';

/**
 * Headers kept on a parsed {@link Email} (lower-cased names): those that tell a mailing list, newsletter
 * or bulk mail from a personal message (RFC 2369 `List-*`, RFC 2919 `List-Id`, RFC 3834
 * `Auto-Submitted`, the de-facto `Precedence`, Mailman's `X-BeenThere`, ezmlm's `Mailing-List`), the
 * threading headers (`In-Reply-To`, `References`), where replies go (`Reply-To`), and `Content-Type`
 * and `X-Mailer`. Trace headers (`Received`, …) are dropped.
 */
export const ROUTING_HEADER_NAMES = [
  'list-id',
  'list-unsubscribe',
  'list-subscribe',
  'list-post',
  'list-help',
  'list-archive',
  'precedence',
  'auto-submitted',
  'x-mailing-list',
  'mailing-list',
  'x-beenthere',
  'x-mailman-version',
  'x-loop',
  'sender',
  'errors-to',
  'in-reply-to',
  'references',
  'reply-to',
  'cc',
  'content-type',
  'x-mailer',
] as const;

/** Maximum length of one kept header value, in characters (the `Email` schema's limit). */
const MAX_HEADER_CHARS = 4_000;

const routingHeaderNames: ReadonlySet<string> = new Set(ROUTING_HEADER_NAMES);

/**
 * Parses one raw RFC 822 / MIME message into the {@link Email} the triage workflow carries.
 *
 * - A leading mbox `From ` separator line (as in the SpamAssassin files) is skipped.
 * - `from` / `to` are mailparser's display text (`"Name" <address>`), `to` joining every To header;
 *   `subject` is decoded (RFC 2047); `date` is the Date header as ISO-8601 UTC, or null when missing or
 *   unparseable; `messageId` is the Message-ID or `''`.
 * - `text` is the plain-text body; when a message has only HTML, mailparser's HTML-to-text conversion of
 *   that HTML is used.
 * - `headers` holds {@link ROUTING_HEADER_NAMES} present in the message, unfolded; a header that occurs
 *   more than once is joined with `, `. `reply-to` is given decoded like `from`.
 * - `origin` is copied as given. Never put the label there.
 *
 * Never throws. A message mailparser cannot read yields empty fields, the text after the first blank
 * line as body, and `origin.parseFailed: "true"`. Every field respects the limits of the `Email` schema;
 * a value that has to be cut is cut at the limit and named in `origin.truncated: "true"` and
 * `origin.truncatedFields` (comma-separated field paths, e.g. `headers.references`), never cut silently.
 */
export async function parseEmail(raw: string, origin: Record<string, string> = {}): Promise<Email> {
  const message = withoutMboxSeparator(raw);
  const limits = new FieldLimiter();
  let email: Email;
  try {
    const parsed = await simpleParser(message, {
      skipImageLinks: true,
      skipTextToHtml: true,
      skipTextLinks: true,
    });
    email = {
      messageId: limits.fit('messageId', parsed.messageId ?? '', 1_000),
      from: limits.fit('from', addressText(parsed.from), 1_000),
      to: limits.fit('to', addressText(parsed.to), 4_000),
      subject: limits.fit('subject', oneLine(parsed.subject ?? ''), 4_000),
      date: headerDate(parsed),
      text: limits.fit('text', await bodyText(parsed), MAX_EMAIL_TEXT_CHARS),
      headers: routingHeaders(parsed, limits),
      origin: { ...origin },
    };
  } catch (error) {
    email = {
      messageId: '',
      from: '',
      to: '',
      subject: '',
      date: null,
      text: limits.fit('text', bodyAfterHeaders(message), MAX_EMAIL_TEXT_CHARS),
      headers: {},
      origin: { ...origin, parseFailed: 'true', parseError: String((error as Error)?.message ?? error).slice(0, 500) },
    };
  }
  if (limits.truncatedFields.length > 0) {
    email.origin = { ...email.origin, truncated: 'true', truncatedFields: limits.truncatedFields.join(',') };
  }
  // Belt and braces: the promise is "never throws and always fits the schema", so check it here.
  const checked = Email.safeParse(email);
  return checked.success ? checked.data : emptyEmail(origin, checked.error.issues.map((issue) => issue.path.join('.')));
}

/** Parses a corpus message with its label-free {@link corpusOrigin}. Never throws (see {@link parseEmail}). */
export function parseCorpusEmail(email: CorpusEmail): Promise<Email> {
  return parseEmail(email.raw, corpusOrigin(email));
}

/** Records which fields had to be cut to their schema limit. */
class FieldLimiter {
  readonly truncatedFields: string[] = [];

  fit(field: string, value: string, maxChars: number): string {
    if (value.length <= maxChars) return value;
    this.truncatedFields.push(field);
    let cut = value.slice(0, maxChars);
    // Do not leave half of a surrogate pair at the end.
    const last = cut.charCodeAt(cut.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
    return cut;
  }
}

function withoutMboxSeparator(raw: string): string {
  return raw.replace(/^From [^\r\n]*\r?\n/, '');
}

function addressText(value: AddressObject | AddressObject[] | undefined): string {
  if (value === undefined) return '';
  const list = Array.isArray(value) ? value : [value];
  return oneLine(list.map((entry) => entry.text).filter((text) => text.length > 0).join(', '));
}

function oneLine(value: string): string {
  return value.replace(/\s*\r?\n\s*/g, ' ').trim();
}

/**
 * The Date header as ISO-8601 UTC. Read from the header itself because mailparser substitutes the
 * current time for a date it cannot parse (12 in 2,000 corpus messages, e.g. `Eastern Daylight Time`).
 */
function headerDate(parsed: ParsedMail): string | null {
  const line = parsed.headerLines.find((header) => header.key.toLowerCase() === 'date')?.line;
  if (line === undefined) return null;
  const time = Date.parse(oneLine(line.slice(line.indexOf(':') + 1)));
  return Number.isNaN(time) ? null : new Date(time).toISOString();
}

async function bodyText(parsed: ParsedMail): Promise<string> {
  if (typeof parsed.text === 'string' && parsed.text.trim().length > 0) return parsed.text;
  if (typeof parsed.html === 'string' && parsed.html.trim().length > 0) {
    // mailparser converts HTML to text only when the HTML part is the message root; for HTML inside
    // multipart/mixed or /related, hand it the HTML as a one-part message so its converter runs.
    const wrapped = await simpleParser(`Content-Type: text/html; charset=utf-8\r\n\r\n${parsed.html}`, {
      skipImageLinks: true,
      skipTextToHtml: true,
      skipTextLinks: true,
    });
    return typeof wrapped.text === 'string' ? wrapped.text : '';
  }
  return '';
}

function routingHeaders(parsed: ParsedMail, limits: FieldLimiter): Record<string, string> {
  const values = new Map<string, string[]>();
  for (const { key, line } of parsed.headerLines) {
    const name = key.toLowerCase();
    if (!routingHeaderNames.has(name)) continue;
    const colon = line.indexOf(':');
    const value = oneLine(colon >= 0 ? line.slice(colon + 1) : '');
    values.set(name, [...(values.get(name) ?? []), value]);
  }
  const headers: Record<string, string> = {};
  for (const [name, list] of values) headers[name] = list.join(', ');
  if (headers['reply-to'] !== undefined && parsed.replyTo !== undefined) headers['reply-to'] = addressText(parsed.replyTo);
  for (const name of Object.keys(headers)) headers[name] = limits.fit(`headers.${name}`, headers[name], MAX_HEADER_CHARS);
  return headers;
}

function bodyAfterHeaders(message: string): string {
  const match = /\r?\n\r?\n/.exec(message);
  return match === null ? '' : message.slice(match.index + match[0].length);
}

function emptyEmail(origin: Record<string, string>, failingPaths: string[]): Email {
  return {
    messageId: '',
    from: '',
    to: '',
    subject: '',
    date: null,
    text: '',
    headers: {},
    origin: { ...origin, parseFailed: 'true', parseError: `fields outside the Email schema: ${failingPaths.join(', ')}`.slice(0, 500) },
  };
}
