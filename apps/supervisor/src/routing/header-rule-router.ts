import type { Email, EmailRouted, TriageRoute } from '@troupe/contracts';
import type { TriageRouter } from './triage-router';

/** One piece of evidence a rule found, and how strongly it points to its route (0–1). */
interface Evidence {
  route: TriageRoute;
  confidence: number;
  reason: string;
}

/** Headers only mailing-list software sets (RFC 2919 List-Id, RFC 2369 List-Post, Mailman, ezmlm, others). */
const LIST_IDENTITY_HEADERS = ['list-id', 'list-post', 'x-beenthere', 'mailing-list', 'x-mailing-list'] as const;
/** RFC 2369 headers any bulk sender may set. */
const LIST_ACTION_HEADERS = ['list-unsubscribe', 'list-subscribe', 'list-help', 'list-archive'] as const;

const NEWSLETTER_SUBJECT = /\b(newsletter|digest|bulletin|weekly|monthly|issue\s*#?\s*\d+|vol\.?\s*\d+|announce(ment)?s?)\b/i;
const NEWSLETTER_SENDER = /\b(newsletters?|news|digest|announce|noreply|no-reply|do-not-reply|donotreply|mailer|bulletin|updates?|rss|feeds?|rssfeeds)\b[^@]*@/i;
const UNSUBSCRIBE_TEXT = /\b(unsubscribe|to be removed from|opt[- ]out|manage your subscription|mailing list)\b/i;
const LIST_ADMIN_ADDRESS = /(-admin|-bounces?|-request|-owner|^owner-|\bowner-|listserv|majordomo|mailman)[^\s@]*@/i;

/**
 * The router used when no language model is configured: rules over the routing headers, no model.
 *
 * `summarise`, strongest evidence first: a list-identity header (`List-Id`, `List-Post`, `X-BeenThere`,
 * `Mailing-List`, `X-Mailing-List`: 0.95); an RFC 2369 action header (`List-Unsubscribe`, … : 0.9);
 * `Precedence: bulk | list | junk` (0.85); `Auto-Submitted` other than `no` (RFC 3834: 0.8); a list
 * manager in `Sender` / `Errors-To` (0.75); newsletter cues in subject or sender (`newsletter@`, `noreply@`,
 * `rssfeeds@`, …), or unsubscribe wording
 * near the end of the body (0.65, weak). Otherwise `draft_reply`: part of a thread (`In-Reply-To` /
 * `References`: 0.75), a question or request in the opening text (0.7), or no evidence at all (0.55,
 * weak). With several pieces of evidence for the same route the strongest gives the confidence and the
 * reason names all of them.
 */
export class HeaderRuleRouter implements TriageRouter {
  readonly name = 'header-rules (non-LLM)';

  async route(email: Email): Promise<EmailRouted> {
    const bulk = bulkEvidence(email);
    const evidence = bulk.length > 0 ? bulk : personalEvidence(email);
    evidence.sort((left, right) => right.confidence - left.confidence);
    const [strongest] = evidence;
    return {
      route: strongest.route,
      confidence: strongest.confidence,
      reason: evidence.map((item) => item.reason).join('; ').slice(0, 4_000),
      router: this.name,
    };
  }
}

function bulkEvidence(email: Email): Evidence[] {
  const found: Evidence[] = [];
  const header = (name: string): string | undefined => {
    const value = email.headers[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const summarise = (confidence: number, reason: string): void => {
    found.push({ route: 'summarise', confidence, reason });
  };

  const identity = LIST_IDENTITY_HEADERS.filter((name) => header(name) !== undefined);
  if (identity.length > 0) {
    summarise(0.95, `mailing-list header ${identity.map((name) => `${name}: ${short(header(name) ?? '')}`).join(', ')}`);
  }
  const actions = LIST_ACTION_HEADERS.filter((name) => header(name) !== undefined);
  if (actions.length > 0) summarise(0.9, `bulk-sender header ${actions.join(', ')} (RFC 2369)`);
  const precedence = header('precedence')?.toLowerCase();
  if (precedence !== undefined && /^(bulk|list|junk)\b/.test(precedence)) summarise(0.85, `precedence: ${precedence}`);
  const autoSubmitted = header('auto-submitted')?.toLowerCase();
  if (autoSubmitted !== undefined && !autoSubmitted.startsWith('no')) summarise(0.8, `auto-submitted: ${autoSubmitted} (RFC 3834)`);
  const admin = ['sender', 'errors-to'].find((name) => LIST_ADMIN_ADDRESS.test(header(name) ?? ''));
  if (admin !== undefined) summarise(0.75, `list manager address in ${admin}: ${short(header(admin) ?? '')}`);

  if (NEWSLETTER_SUBJECT.test(email.subject)) summarise(0.65, `newsletter wording in the subject "${short(email.subject)}"`);
  if (NEWSLETTER_SENDER.test(email.from)) summarise(0.65, `bulk sender address ${short(email.from)}`);
  if (UNSUBSCRIBE_TEXT.test(email.text.slice(-1_500))) summarise(0.65, 'unsubscribe or mailing-list wording at the end of the body');
  return found;
}

function personalEvidence(email: Email): Evidence[] {
  const found: Evidence[] = [];
  const threaded = ['in-reply-to', 'references'].filter((name) => (email.headers[name] ?? '').trim() !== '');
  if (threaded.length > 0) {
    found.push({ route: 'draft_reply', confidence: 0.75, reason: `no list, bulk or newsletter evidence; a reply in a conversation (${threaded.join(', ')})` });
  }
  const opening = email.text.slice(0, 2_000);
  if (/\?\s/.test(`${opening} `) || /\b(please|could you|can you|would you|let me know|help)\b/i.test(opening)) {
    found.push({
      route: 'draft_reply',
      confidence: 0.7,
      reason: `${found.length === 0 ? 'no list, bulk or newsletter evidence; ' : ''}the message asks a question or makes a request`,
    });
  }
  if (found.length === 0) {
    found.push({ route: 'draft_reply', confidence: 0.55, reason: 'no list, bulk or newsletter evidence; treated as personal mail (weak)' });
  }
  return found;
}

function short(value: string): string {
  return value.length <= 120 ? value : `${value.slice(0, 119)}…`;
}
