import { beforeAll, describe, expect, it } from 'vitest';
import { EmailSummarised, type Email } from '@troupe/contracts';
import { scriptedLanguageModel, StructuredOutputError } from '@troupe/agent-kit';
import { loadSpamAssassinCorpus, parseCorpusEmail } from '@troupe/email-corpus';
import { ExtractiveSummariser } from './extractive-summariser';
import { ModelSummariser } from './model-summariser';

const listMail: Email = {
  messageId: '<7@example.org>',
  from: '"Robert Elz" <kre@munnari.OZ.AU>',
  to: 'exmh-workers@example.org',
  subject: 'Re: New Sequences Window',
  date: null,
  text: [
    'On Thu, Chris wrote:',
    '> the old window is broken',
    '> please test',
    '',
    'I tried the new sequences window today. It crashes when the folder is empty.',
    'http://example.org/bug/123',
    '',
    'Ok.',
    'Can someone with Tk 8.4 check whether it happens there too? I will send a patch tomorrow.',
    '-- ',
    'kre',
    '_______________________________________________',
    'Exmh-workers mailing list',
  ].join('\n'),
  headers: { 'list-id': '<exmh-workers.example.org>' },
  origin: {},
};

describe('ExtractiveSummariser', () => {
  it('gives sender, subject and the first meaningful sentences, skipping quotes, links, signature and footer', async () => {
    const result = await new ExtractiveSummariser().summarise(listMail);
    expect(EmailSummarised.parse(result)).toEqual(result);
    expect(result.summariser).toBe('extractive (non-LLM)');
    expect(result.summary).toBe(
      'Robert Elz on "Re: New Sequences Window": I tried the new sequences window today. It crashes when the folder is empty. ' +
        'Can someone with Tk 8.4 check whether it happens there too?',
    );
  });

  it('stays within its length bound', async () => {
    const long = { ...listMail, text: Array.from({ length: 50 }, (_, index) => `This is sentence number ${index} of a very long message about nothing.`).join(' ') };
    const result = await new ExtractiveSummariser({ maxChars: 200, maxSentences: 10 }).summarise(long);
    expect(result.summary.length).toBeLessThanOrEqual(200);
  });

  it('says so when there is no body text', async () => {
    const result = await new ExtractiveSummariser().summarise({ ...listMail, from: '', subject: '', text: '> only quoted' });
    expect(result.summary).toBe('unknown sender on "(no subject)": (no body text to summarise)');
  });

  describe('on corpus mailing-list messages', () => {
    let emails: Email[];
    beforeAll(async () => {
      const corpus = loadSpamAssassinCorpus().filter((message) => message.group === 'easy-ham-1').slice(0, 40);
      emails = await Promise.all(corpus.map(parseCorpusEmail));
    });

    it('summarises every one within the schema', async () => {
      const summariser = new ExtractiveSummariser();
      for (const email of emails) {
        const result = await summariser.summarise(email);
        expect(EmailSummarised.safeParse(result).success).toBe(true);
        expect(result.summary.length).toBeLessThanOrEqual(600);
      }
    });
  });
});

describe('ModelSummariser', () => {
  it('returns the model summary under the model name', async () => {
    const model = scriptedLanguageModel(['{"summary":"The new sequences window crashes on empty folders; a patch follows."}'], { provider: 'mock', modelId: 'digest' });
    const result = await new ModelSummariser(model).summarise(listMail);
    expect(result).toEqual({ summary: 'The new sequences window crashes on empty folders; a patch follows.', summariser: 'model/mock/digest' });
  });

  it('fails with StructuredOutputError on an empty summary', async () => {
    const model = scriptedLanguageModel(['{"summary":""}']);
    await expect(new ModelSummariser(model).summarise(listMail)).rejects.toBeInstanceOf(StructuredOutputError);
  });
});
