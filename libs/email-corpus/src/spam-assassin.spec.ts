import { beforeAll, describe, expect, it } from 'vitest';
import type { SpamLabel } from '@troupe/contracts';
import { corpusOrigin, corpusSplit, loadSpamAssassinCorpus, splitOf, type CorpusEmail } from './spam-assassin';

describe('loadSpamAssassinCorpus', () => {
  let corpus: CorpusEmail[];
  beforeAll(() => {
    corpus = loadSpamAssassinCorpus();
  });

  it('reads all 6,046 messages with ham and spam labels by group', () => {
    expect(corpus).toHaveLength(6046);
    const byGroup = new Map<string, number>();
    for (const email of corpus) byGroup.set(email.group, (byGroup.get(email.group) ?? 0) + 1);
    expect(Object.fromEntries(byGroup)).toEqual({
      'easy-ham-1': 2500,
      'easy-ham-2': 1400,
      'hard-ham-1': 250,
      'spam-1': 500,
      'spam-2': 1396,
    });
    expect(corpus.filter((email) => email.label === 'spam')).toHaveLength(1896);
    expect(corpus.every((email) => email.label === (email.group.startsWith('spam') ? 'spam' : 'ham'))).toBe(true);
  });

  it('gives every message a unique corpus id and a unique origin id', () => {
    expect(new Set(corpus.map((email) => email.corpusId)).size).toBe(corpus.length);
    expect(new Set(corpus.map((email) => email.originId)).size).toBe(corpus.length);
    expect(corpus[0].corpusId).toBe('easy-ham-1/00001');
    expect(corpus[0].originId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('puts neither the group nor the label into the origin an email carries', () => {
    for (const email of corpus.slice(0, 50).concat(corpus.slice(-50))) {
      const origin = JSON.stringify(corpusOrigin(email));
      expect(origin).not.toMatch(/ham|spam-|easy|hard/);
    }
  });

  it('splits each label about evenly between train and test', () => {
    for (const label of ['ham', 'spam'] satisfies SpamLabel[]) {
      const ofLabel = corpus.filter((email) => email.label === label);
      const trainShare = corpusSplit(ofLabel, 'train').length / ofLabel.length;
      expect(trainShare).toBeGreaterThan(0.45);
      expect(trainShare).toBeLessThan(0.55);
    }
    for (const group of ['easy-ham-1', 'easy-ham-2', 'hard-ham-1', 'spam-1', 'spam-2']) {
      const ofGroup = corpus.filter((email) => email.group === group);
      const trainShare = corpusSplit(ofGroup, 'train').length / ofGroup.length;
      expect(trainShare).toBeGreaterThan(0.4);
      expect(trainShare).toBeLessThan(0.6);
    }
  });

  it('puts every message in exactly one half', () => {
    const train = new Set(corpusSplit(corpus, 'train').map((email) => email.corpusId));
    const test = corpusSplit(corpus, 'test');
    expect(train.size + test.length).toBe(corpus.length);
    expect(test.some((email) => train.has(email.corpusId))).toBe(false);
  });
});

describe('splitOf', () => {
  it('decides the same way on every call', () => {
    const ids = ['easy-ham-1/00001', 'spam-2/01396', 'hard-ham-1/00250', 'anything'];
    expect(ids.map(splitOf)).toEqual(ids.map(splitOf));
  });

  it('keeps the documented assignment of known ids (a change here reshuffles every trained model)', () => {
    expect(['easy-ham-1/00001', 'easy-ham-1/00002', 'spam-1/00001', 'spam-2/00001'].map(splitOf)).toMatchInlineSnapshot(`
      [
        "test",
        "test",
        "test",
        "train",
      ]
    `);
  });
});
