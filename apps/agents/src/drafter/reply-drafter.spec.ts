import { describe, expect, it } from 'vitest';
import { ReplyDrafted, type Email } from '@troupe/contracts';
import { scriptedLanguageModel, StructuredOutputError } from '@troupe/agent-kit';
import { ModelReplyDrafter } from './model-reply-drafter';
import { replyRecipient, replySubject } from './reply-drafter';
import { TemplateReplyDrafter } from './template-reply-drafter';

const email: Email = {
  messageId: '<42@example.org>',
  from: '"Ann Example" <ann@example.org>',
  to: 'support@example.com',
  subject: 'Invoice 1234 is wrong',
  date: '2002-08-22T11:26:25.000Z',
  text: [
    'Hi,',
    '',
    'my invoice 1234 charges me twice for the same month.',
    'Could you please correct it?',
    '',
    'On Tue, Bob wrote:',
    '> earlier message',
    '-- ',
    'Ann, +1 555 0100',
  ].join('\n'),
  headers: {},
  origin: {},
};

describe('replyRecipient and replySubject', () => {
  it('answers Reply-To when present, else From', () => {
    expect(replyRecipient(email)).toBe('"Ann Example" <ann@example.org>');
    expect(replyRecipient({ ...email, headers: { 'reply-to': 'billing@example.org' } })).toBe('billing@example.org');
  });

  it('reduces an over-long recipient list to its first mailbox', () => {
    const many = Array.from({ length: 100 }, (_, index) => `person${index}@example.org`).join(', ');
    expect(replyRecipient({ ...email, from: many })).toBe('person0@example.org');
  });

  it('prefixes Re: once', () => {
    expect(replySubject('Hello')).toBe('Re: Hello');
    expect(replySubject('RE: Hello')).toBe('RE: Hello');
    expect(replySubject('  ')).toBe('Re: (no subject)');
  });
});

describe('TemplateReplyDrafter', () => {
  it('greets the sender, names the subject, quotes the opening lines and says it is a template', async () => {
    const draft = await new TemplateReplyDrafter().draft(email);
    expect(ReplyDrafted.parse(draft)).toEqual(draft);
    expect(draft).toMatchObject({ to: '"Ann Example" <ann@example.org>', subject: 'Re: Invoice 1234 is wrong', drafter: 'template (non-LLM)' });
    expect(draft.body).toMatch(/^Hello Ann Example,/);
    expect(draft.body).toContain('"Invoice 1234 is wrong"');
    expect(draft.body).toContain('> my invoice 1234 charges me twice for the same month.\n> Could you please correct it?');
    expect(draft.body).not.toContain('earlier message');
    expect(draft.body).not.toContain('555 0100');
    expect(draft.reasoning).toMatch(/non-LLM template/);
  });

  it('copes with an email without sender, subject or text', async () => {
    const draft = await new TemplateReplyDrafter().draft({ ...email, from: '', subject: '', text: '' });
    expect(ReplyDrafted.safeParse(draft).success).toBe(true);
    expect(draft.body).toMatch(/^Hello,\n/);
    expect(draft.body).not.toContain('You wrote');
    expect(draft.subject).toBe('Re: (no subject)');
  });
});

describe('ModelReplyDrafter', () => {
  it('uses the model for body and reasoning, and fixes recipient and subject itself', async () => {
    const model = scriptedLanguageModel(
      ['{"body":"Hello Ann,\\n\\nSorry about that; I will correct invoice 1234 [confirm refund date].\\n\\nBest","reasoning":"She was charged twice; we apologise and promise a fix."}'],
      { provider: 'mock', modelId: 'writer' },
    );
    const draft = await new ModelReplyDrafter(model).draft(email);
    expect(ReplyDrafted.parse(draft)).toEqual(draft);
    expect(draft).toMatchObject({ to: '"Ann Example" <ann@example.org>', subject: 'Re: Invoice 1234 is wrong', drafter: 'model/mock/writer' });
    expect(draft.body).toContain('[confirm refund date]');
    expect(draft.reasoning).toContain('charged twice');
  });

  it('fails with StructuredOutputError when the answer lacks a body', async () => {
    const model = scriptedLanguageModel(['{"reasoning":"no body"}']);
    await expect(new ModelReplyDrafter(model).draft(email)).rejects.toBeInstanceOf(StructuredOutputError);
  });
});
