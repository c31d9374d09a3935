/**
 * Contract suites of `@troupe/persistence`, one per store interface (langgraphjs
 * `checkpoint-validation` style): an adapter's integration spec calls the suite with a factory.
 *
 * Kept out of the library's main `index.ts` on purpose: these modules import `vitest`, a dev
 * dependency, which production code importing `@troupe/persistence` must never load.
 */
export { describeSnapshotStoreContract, type SnapshotStoreUnderTest } from './snapshot-store.contract';
export { describeJournalContract, type JournalUnderTest } from './journal.contract';
export { describeSentMailLedgerContract, type SentMailLedgerUnderTest } from './sent-mail-ledger.contract';
export { sampleWorkflowRecord, sampleJournalEntry, sampleSentMailRecord, uniqueWorkflowId } from './fixtures';
export { describeJournalRetentionContract, type RetentionUnderTest } from './retention.contract';
