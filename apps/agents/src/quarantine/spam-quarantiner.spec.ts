import { describe, expect, it } from 'vitest';
import type { Email } from '@troupe/contracts';
import { RuleSpamQuarantiner } from './spam-quarantiner';

const email: Email = {
  messageId: '<s@x>',
  from: 'promo@example.com',
  to: 'me@example.org',
  subject: 'FREE CASH NOW',
  date: null,
  text: 'Act now! Limited time. To be removed from this list reply REMOVE.',
  headers: {},
  origin: {},
};

describe('RuleSpamQuarantiner', () => {
  it('quarantines with the classification and the spam signals it finds as the reason', async () => {
    const result = await new RuleSpamQuarantiner().quarantine({ email, classification: { label: 'spam', confidence: 0.993, classifier: 'naive-bayes' }, reviewedBy: null });
    expect(result).toEqual({
      folder: 'quarantine',
      reason: 'classified spam by naive-bayes with 99% confidence; signals: shouting subject, money or prize wording, remove-me footer, urgency.',
      senderMessageCount: null,
      quarantinedBy: 'rules (non-LLM)',
    });
  });

  it('names the reviewer who confirmed the label, and says when the rules find nothing', async () => {
    const plain = { ...email, subject: 'hello', text: 'see you' };
    const result = await new RuleSpamQuarantiner().quarantine({ email: plain, classification: null, reviewedBy: 'alice' });
    expect(result.reason).toBe('confirmed as spam by alice at review; signals: none found by the rules.');
  });
});
