import { beforeAll, describe, expect, it } from 'vitest';
import { EmailRouted, type Email } from '@troupe/contracts';
import { loadSpamAssassinCorpus, parseCorpusEmail } from '@troupe/email-corpus';
import { HeaderRuleRouter } from './header-rule-router';

const personal: Email = {
  messageId: '<9@example.org>',
  from: '"Ann Example" <ann@example.org>',
  to: 'me@example.org',
  subject: 'Dinner',
  date: null,
  text: 'I booked the table for eight.',
  headers: {},
  origin: {},
};

describe('HeaderRuleRouter', () => {
  const router = new HeaderRuleRouter();

  it('sends a message with a list-identity header to the summariser, naming the header', async () => {
    const decision = await router.route({ ...personal, headers: { 'list-id': 'Discussion <exmh-workers.example.org>', precedence: 'bulk' } });
    expect(EmailRouted.parse(decision)).toEqual(decision);
    expect(decision).toMatchObject({ route: 'summarise', confidence: 0.95, router: 'header-rules (non-LLM)' });
    expect(decision.reason).toContain('list-id: Discussion <exmh-workers.example.org>');
    expect(decision.reason).toContain('precedence: bulk');
  });

  it('is less sure with weaker bulk evidence', async () => {
    expect(await router.route({ ...personal, headers: { 'list-unsubscribe': '<mailto:leave@example.org>' } })).toMatchObject({ route: 'summarise', confidence: 0.9 });
    expect(await router.route({ ...personal, headers: { precedence: 'junk' } })).toMatchObject({ route: 'summarise', confidence: 0.85 });
    expect(await router.route({ ...personal, headers: { 'auto-submitted': 'auto-generated' } })).toMatchObject({ route: 'summarise', confidence: 0.8 });
    expect(await router.route({ ...personal, headers: { 'auto-submitted': 'no' } })).toMatchObject({ route: 'draft_reply' });
    expect(await router.route({ ...personal, headers: { sender: 'fork-admin@xent.com' } })).toMatchObject({ route: 'summarise', confidence: 0.75 });
    const newsletter = await router.route({ ...personal, subject: 'Palm OS Newsletter, Issue #33' });
    expect(newsletter).toMatchObject({ route: 'summarise', confidence: 0.65 });
    expect(newsletter.reason).toContain('newsletter wording in the subject');
    expect(await router.route({ ...personal, text: 'News of the week.\n\nTo unsubscribe, reply STOP.' })).toMatchObject({ route: 'summarise', confidence: 0.65 });
    expect(await router.route({ ...personal, from: '"boingboing" <rssfeeds@example.org>' })).toMatchObject({ route: 'summarise', confidence: 0.65 });
  });

  it('sends personal mail to the drafter, surer when it is a reply or a request', async () => {
    const weak = await router.route(personal);
    expect(weak).toMatchObject({ route: 'draft_reply', confidence: 0.55 });
    expect(weak.reason).toContain('(weak)');
    expect(await router.route({ ...personal, text: 'Could you send me the slides?' })).toMatchObject({ route: 'draft_reply', confidence: 0.7 });
    const reply = await router.route({ ...personal, headers: { 'in-reply-to': '<1@example.org>' }, text: 'Can we move it to nine?' });
    expect(reply).toMatchObject({ route: 'draft_reply', confidence: 0.75 });
    expect(reply.reason).toBe('no list, bulk or newsletter evidence; a reply in a conversation (in-reply-to); the message asks a question or makes a request');
  });

  describe('on a sample of the corpus ham', () => {
    let ham: Email[];
    beforeAll(async () => {
      const messages = loadSpamAssassinCorpus().filter((message) => message.label === 'ham').filter((_, index) => index % 20 === 0);
      ham = await Promise.all(messages.map(parseCorpusEmail));
    });

    it('routes list mail to the summariser and some mail to the drafter, always within the schema', async () => {
      const routes = { summarise: 0, draft_reply: 0 };
      for (const email of ham) {
        const decision = await router.route(email);
        expect(EmailRouted.safeParse(decision).success).toBe(true);
        routes[decision.route] += 1;
      }
      expect(routes.summarise / ham.length).toBeGreaterThan(0.7);
      expect(routes.draft_reply).toBeGreaterThan(0);
    });
  });
});
