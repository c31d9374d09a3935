import { describe, expect, it } from 'vitest';
import type { Email } from '@troupe/contracts';
import { callTool } from '@troupe/agent-kit';
import { MailboxIndex, lazyMailbox, senderHistoryTool, threadKey, threadLookupTool } from './corpus-tools';

const mail = (messageId: string, from: string, subject: string, text = 'Hello there.'): Email => ({
  messageId,
  from,
  to: 'me@example.org',
  subject,
  date: null,
  text,
  headers: {},
  origin: {},
});
const emails = [
  mail('<1@x>', 'Ann <ann@example.org>', 'Lunch on Friday?'),
  mail('<2@x>', 'Bob <bob@example.org>', 'Re: Lunch on Friday?', 'Noon works.'),
  mail('<3@x>', 'ann@example.org', 'Fwd: RE: lunch on friday?'),
  mail('<4@x>', '"Ann A." <ANN@example.org>', 'Invoice'),
];
const context = { idempotencyKey: 'k', runId: 'r' };

describe('mailbox tools', () => {
  it('finds the other messages of a thread whatever the Re:/Fwd: prefixes', async () => {
    expect(threadKey('Fwd: RE: Lunch  on Friday?')).toBe('lunch on friday?');
    const tool = threadLookupTool(lazyMailbox(async () => emails));
    const result = await callTool(tool, { subject: 'Re: Lunch on Friday?', excludeMessageId: '<2@x>' }, context);
    expect(result.ok).toBe(true);
    expect((result.output as { messages: Array<{ messageId: string }> }).messages.map((m) => m.messageId)).toEqual(['<1@x>', '<3@x>']);
  });

  it('counts what a sender wrote before by address, case-insensitively', async () => {
    const tool = senderHistoryTool(async () => new MailboxIndex(emails));
    const result = await callTool(tool, { from: 'Ann <Ann@Example.org>' }, context);
    expect(result.output).toEqual({ address: 'ann@example.org', messageCount: 3, subjects: ['Lunch on Friday?', 'Fwd: RE: lunch on friday?', 'Invoice'] });
    expect((await callTool(tool, { from: '' }, context)).ok).toBe(false);
  });
});
