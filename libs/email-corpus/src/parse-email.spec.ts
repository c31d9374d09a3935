import { beforeAll, describe, expect, it } from 'vitest';
import { Email, MAX_EMAIL_TEXT_CHARS } from '@troupe/contracts';
import { parseCorpusEmail, parseEmail } from './parse-email';
import { loadSpamAssassinCorpus, type CorpusEmail } from './spam-assassin';

describe('parseEmail on corpus messages', () => {
  let byId: Map<string, CorpusEmail>;
  beforeAll(() => {
    byId = new Map(loadSpamAssassinCorpus().map((email) => [email.corpusId, email]));
  });
  const corpusEmail = (corpusId: string): CorpusEmail => {
    const email = byId.get(corpusId);
    if (email === undefined) throw new Error(`no ${corpusId} in the corpus`);
    return email;
  };

  it('reads subject, sender, date, body and list headers of a mailing-list message', async () => {
    const email = await parseCorpusEmail(corpusEmail('easy-ham-1/00001'));
    expect(email.subject).toBe('Re: New Sequences Window');
    expect(email.from).toContain('kre@munnari.OZ.AU');
    expect(email.to).toContain('Chris Garrigues');
    expect(email.date).toBe('2002-08-22T11:26:25.000Z');
    expect(email.messageId).toBe('<13258.1030015585@munnari.OZ.AU>');
    expect(email.text.length).toBeGreaterThan(100);
    expect(email.headers['list-id']).toBe('Discussion list for EXMH developers <exmh-workers.spamassassin.taint.org>');
    expect(email.headers['precedence']).toBe('bulk');
    expect(email.headers['in-reply-to']).toBe('<1029945287.4797.TMDA@deepeddy.vircio.com>');
    expect(email.headers['received']).toBeUndefined();
    expect(email.origin).toEqual({ corpus: 'spamassassin', id: corpusEmail('easy-ham-1/00001').originId });
  });

  it('reads a spam message', async () => {
    const email = await parseCorpusEmail(corpusEmail('spam-1/00001'));
    expect(email.subject.length).toBeGreaterThan(0);
    expect(email.from.length).toBeGreaterThan(0);
    expect(email.text.length).toBeGreaterThan(0);
  });

  it('turns the HTML of a message without a text part into text', async () => {
    const email = await parseCorpusEmail(corpusEmail('hard-ham-1/00221'));
    expect(email.text).toContain('Palm OS');
    expect(email.text).not.toMatch(/<table|<td/i);
  });

  it('yields emails that satisfy the Email schema for a sample of the corpus', async () => {
    const sample = [...byId.values()].filter((_, index) => index % 40 === 0);
    for (const corpusMessage of sample) {
      const email = await parseCorpusEmail(corpusMessage);
      expect(Email.safeParse(email).success).toBe(true);
      expect(email.origin.parseFailed).toBeUndefined();
    }
  });
});

describe('parseEmail on malformed input', () => {
  it('returns empty fields for an empty message', async () => {
    const email = await parseEmail('', { id: 'empty' });
    expect(Email.safeParse(email).success).toBe(true);
    expect(email).toMatchObject({ subject: '', from: '', to: '', date: null, text: '', headers: {} });
    expect(email.origin.id).toBe('empty');
  });

  it('survives binary junk, broken MIME and an unparseable date', async () => {
    const inputs = [
      '\u0000\u0001\u00ff\ud800 not a message',
      'Subject: half\r\nContent-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nbody without end',
      'From: a@b\r\nDate: the day after tomorrow\r\nSubject: when?\r\n\r\nhello',
      'Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!',
    ];
    for (const raw of inputs) {
      const email = await parseEmail(raw);
      expect(Email.safeParse(email).success).toBe(true);
    }
    expect((await parseEmail(inputs[2])).date).toBeNull();
    expect((await parseEmail(inputs[2])).subject).toBe('when?');
  });

  it('cuts an over-long header and text at the schema limit and says so in the origin', async () => {
    const references = Array.from({ length: 400 }, (_, index) => `<message-${index}@example.org>`).join(' ');
    const body = 'a'.repeat(MAX_EMAIL_TEXT_CHARS + 10);
    const email = await parseEmail(`Subject: long\r\nReferences: ${references}\r\n\r\n${body}`, { id: 'long' });
    expect(Email.safeParse(email).success).toBe(true);
    expect(email.headers.references).toHaveLength(4_000);
    expect(email.text).toHaveLength(MAX_EMAIL_TEXT_CHARS);
    expect(email.origin).toMatchObject({ id: 'long', truncated: 'true', truncatedFields: 'text,headers.references' });
  });

  it('leaves a message within the limits unmarked', async () => {
    const email = await parseEmail('Subject: short\r\n\r\nhello', {});
    expect(email.origin).toEqual({});
    expect(email.text.trim()).toBe('hello');
  });
});
