import { MongoServerError } from 'mongodb';

/** MongoDB's duplicate-key error code (`E11000`). */
const DUPLICATE_KEY = 11000;

/** True when a write failed because a unique index (or `_id`) already holds the key. */
export function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY;
}

/** Every Troupe write waits for a majority of the replica set (DESIGN.md "Scale"). */
export const MAJORITY = { writeConcern: { w: 'majority' } } as const;
