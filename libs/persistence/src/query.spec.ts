import { SchemaValidationError } from '@troupe/contracts';
import { describe, expect, it } from 'vitest';
import { idempotencyKeyOf, kvKeyOf } from './embedded/kv-sent-mail-ledger';
import { decodeCursor, encodeCursor, idMatches, pageSizeOf, recordMatches } from './query';
import { sampleWorkflowRecord } from './testing/fixtures';

describe('pageSizeOf', () => {
  it('defaults to 100 and clamps to 1-1000', () => {
    expect(pageSizeOf({})).toBe(100);
    expect(pageSizeOf({ limit: Number.NaN })).toBe(100);
    expect(pageSizeOf({ limit: 0 })).toBe(1);
    expect(pageSizeOf({ limit: -5 })).toBe(1);
    expect(pageSizeOf({ limit: 7.9 })).toBe(7);
    expect(pageSizeOf({ limit: 5_000 })).toBe(1_000);
  });
});

describe('cursors', () => {
  it('round-trips a workflow id through an opaque base64url cursor', () => {
    const cursor = encodeCursor('wf-Abc_123');
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toBe('wf-Abc_123');
  });

  it('rejects a cursor it did not make with SchemaValidationError', () => {
    for (const cursor of ['', '***', 'a', `${encodeCursor('wf-1')}=`]) {
      expect(() => decodeCursor(cursor)).toThrow(SchemaValidationError);
    }
  });
});

describe('recordMatches and idMatches', () => {
  const record = sampleWorkflowRecord({
    workflowId: 'wf-b',
    status: 'active',
    statePaths: ['review', 'review.waiting'],
    tags: { label: 'ham' },
  });

  it('matches every given filter and ignores absent ones', () => {
    expect(recordMatches(record, {})).toBe(true);
    expect(recordMatches(record, { status: 'active', state: 'review.waiting', tag: { key: 'label', value: 'ham' }, idPrefix: 'wf-' })).toBe(true);
    expect(recordMatches(record, { state: 'waiting' })).toBe(false);
    expect(recordMatches(record, { tag: { key: 'toString', value: 'x' } })).toBe(false);
    expect(recordMatches(record, { workflowType: 'claim-processing' })).toBe(false);
  });

  it('keeps ids strictly after the cursor id', () => {
    expect(idMatches('wf-b', {}, 'wf-a')).toBe(true);
    expect(idMatches('wf-b', {}, 'wf-b')).toBe(false);
    expect(idMatches('wf-b', { idPrefix: 'wf-c' }, null)).toBe(false);
  });
});

describe('sent-mail KV keys', () => {
  it('encodes idempotency keys reversibly into the characters KV keys allow', () => {
    for (const key of ['wf-1:3:0', 'wf-1.3.0', 'ü/ :x', '.leading']) {
      const kvKey = kvKeyOf(key);
      expect(kvKey).toMatch(/^[-/_=.A-Za-z0-9]+$/);
      expect(kvKey.startsWith('.') || kvKey.endsWith('.')).toBe(false);
      expect(idempotencyKeyOf(kvKey)).toBe(key);
    }
  });
});
