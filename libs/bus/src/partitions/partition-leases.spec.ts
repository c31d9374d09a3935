import { describe, expect, it } from 'vitest';
import { fairShare, leasePriority, memberKey } from './partition-leases';

describe('fairShare', () => {
  it('gives shares that add up to the partition count and differ by at most one', () => {
    for (let memberCount = 1; memberCount <= 20; memberCount++) {
      const members = Array.from({ length: memberCount }, (_, i) => `host:${1000 + i}:abcd`);
      const shares = members.map((member) => fairShare(16, members, member));
      expect(shares.reduce((a, b) => a + b, 0)).toBe(16);
      expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
    }
  });

  it('counts the member itself even when its heartbeat is missing from the list', () => {
    expect(fairShare(16, ['a'], 'b')).toBe(8);
    expect(fairShare(16, [], 'a')).toBe(16);
  });
});

describe('leasePriority', () => {
  it('orders partitions differently for different members, the same way every time', () => {
    const order = (owner: string) => Array.from({ length: 16 }, (_, p) => p).sort((a, b) => leasePriority(owner, b) - leasePriority(owner, a));
    expect(order('a')).toEqual(order('a'));
    expect(order('a')).not.toEqual(order('b'));
  });
});

describe('memberKey', () => {
  it('turns an owner id into a valid KV key', () => {
    expect(memberKey('host-1.local:4242:9f3a')).toBe('member.host-1_local_4242_9f3a');
  });
});
