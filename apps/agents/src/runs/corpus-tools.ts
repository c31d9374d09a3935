import { z } from 'zod';
import type { Email } from '@troupe/contracts';
import { defineTool } from '@troupe/agent-kit';
import { firstMailbox } from '@troupe/email-corpus';

/** Characters of a message body a tool returns at most. */
const EXCERPT_CHARS = 400;

/** The subject without reply and forward prefixes, lower-cased: how messages of one thread are found. */
export function threadKey(subject: string): string {
  return subject
    .replace(/^\s*((re|fwd?|aw|sv)\s*(\[\d+\])?\s*:\s*)+/i, '')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
}

/** The sender's address, lower-cased. */
export function senderKey(from: string): string {
  const mailbox = firstMailbox(from);
  const address = /<([^>]+)>/.exec(mailbox)?.[1] ?? mailbox;
  return address.trim().toLowerCase();
}

/** A message as the tools show it. */
export const MessageSummary = z.object({ messageId: z.string(), from: z.string(), date: z.string().nullable(), subject: z.string(), excerpt: z.string() });
export type MessageSummary = z.infer<typeof MessageSummary>;

/**
 * An in-memory index of a mailbox (the corpus): messages by thread (subject without `Re:`/`Fwd:`) and by
 * sender address. Read-only; built once at boot.
 */
export class MailboxIndex {
  private readonly byThread = new Map<string, Email[]>();
  private readonly bySender = new Map<string, Email[]>();

  constructor(emails: Iterable<Email>) {
    for (const email of emails) {
      push(this.byThread, threadKey(email.subject), email);
      push(this.bySender, senderKey(email.from), email);
    }
  }

  /** Other messages of the thread of `subject` (at most `limit`), oldest first. */
  thread(subject: string, excludeMessageId: string, limit = 5): MessageSummary[] {
    const key = threadKey(subject);
    if (key === '') return [];
    return (this.byThread.get(key) ?? []).filter((email) => email.messageId !== excludeMessageId).slice(0, limit).map(summary);
  }

  /** How many messages came from `from`, and the subjects of the latest ones (at most `limit`). */
  senderHistory(from: string, limit = 10): { address: string; messageCount: number; subjects: string[] } {
    const address = senderKey(from);
    const emails = this.bySender.get(address) ?? [];
    return { address, messageCount: emails.length, subjects: emails.slice(-limit).map((email) => email.subject) };
  }
}

function push(map: Map<string, Email[]>, key: string, email: Email): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [email]);
  else list.push(email);
}

function summary(email: Email): MessageSummary {
  return { messageId: email.messageId, from: email.from, date: email.date, subject: email.subject, excerpt: email.text.slice(0, EXCERPT_CHARS) };
}

/** The mailbox the tools search, built on first use (parsing the corpus takes seconds). */
export type MailboxSource = () => Promise<MailboxIndex>;

/** A {@link MailboxSource} that builds the index once from `load`, on the first call. */
export function lazyMailbox(load: () => Promise<Iterable<Email>>): MailboxSource {
  let index: Promise<MailboxIndex> | null = null;
  return () => {
    index ??= load().then((emails) => new MailboxIndex(emails));
    return index;
  };
}

/** Tool `thread_lookup`: earlier messages of the same thread in the mailbox. */
export function threadLookupTool(mailbox: MailboxSource) {
  return defineTool({
    name: 'thread_lookup',
    description: 'Finds other messages of the same thread (same subject without Re:/Fwd:) in the mailbox. Returns sender, date, subject and the first 400 characters of each.',
    inputSchema: z.object({ subject: z.string().min(1).max(1_000), excludeMessageId: z.string().max(1_000).default('') }),
    outputSchema: z.object({ messages: z.array(MessageSummary) }),
    execute: async ({ subject, excludeMessageId }) => ({ messages: (await mailbox()).thread(subject, excludeMessageId) }),
  });
}

/** Tool `sender_history`: how often the sender wrote before, and about what. */
export function senderHistoryTool(mailbox: MailboxSource) {
  return defineTool({
    name: 'sender_history',
    description: 'Looks up how many messages the mailbox holds from a sender address, with the subjects of the latest ten.',
    inputSchema: z.object({ from: z.string().min(1).max(1_000) }),
    outputSchema: z.object({ address: z.string(), messageCount: z.number().int().nonnegative(), subjects: z.array(z.string()) }),
    execute: async ({ from }) => (await mailbox()).senderHistory(from),
  });
}
