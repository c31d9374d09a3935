import { describe, expect, it } from 'vitest';
import { firstMailbox, senderName } from './addresses';

describe('senderName', () => {
  it('prefers the display name, then the local part', () => {
    expect(senderName('"Robert Elz" <kre@munnari.OZ.AU>')).toBe('Robert Elz');
    expect(senderName('Robert Elz <kre@munnari.OZ.AU>')).toBe('Robert Elz');
    expect(senderName('kre@munnari.OZ.AU')).toBe('kre');
    expect(senderName('"kre@munnari.OZ.AU" <kre@munnari.OZ.AU>')).toBe('kre');
    expect(senderName('"O\'Brien, \\"Pat\\"" <pat@example.org>, other@example.org')).toBe('O\'Brien, "Pat"');
    expect(senderName('')).toBe('');
    expect(senderName('undisclosed-recipients:;')).toBe('');
  });
});

describe('firstMailbox', () => {
  it('takes the first mailbox of a list', () => {
    expect(firstMailbox('"Ann" <ann@example.org>, bob@example.org')).toBe('"Ann" <ann@example.org>');
    expect(firstMailbox('bob@example.org, "Ann" <ann@example.org>')).toBe('bob@example.org');
    expect(firstMailbox('<ann@example.org>')).toBe('ann@example.org');
    expect(firstMailbox('nobody')).toBe('');
  });
});
