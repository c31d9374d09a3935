import { TroupeError } from '@troupe/contracts';

/** Base of email-corpus errors. */
export class EmailCorpusError extends TroupeError {}

/**
 * The corpus package is missing or its data has an unexpected shape. Not retryable: the installation
 * has to be fixed.
 */
export class CorpusLoadError extends EmailCorpusError {
  constructor(message: string, cause?: unknown) {
    super('CORPUS_LOAD_FAILED', message, { retryable: false, cause });
  }
}
