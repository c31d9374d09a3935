import { NatsError } from 'nats';

/** JetStream API error code of "wrong last sequence" (`JSStreamWrongLastSequenceErrF`). */
const WRONG_LAST_SEQUENCE = 10071;

/**
 * True when JetStream refused a publish because the subject's last sequence was not the expected one
 * (`Nats-Expected-Last-Subject-Sequence`): the compare-and-set under `kv.create` and `kv.update` lost.
 */
export function isWrongLastSequence(error: unknown): boolean {
  if (!(error instanceof NatsError)) return false;
  return error.api_error?.err_code === WRONG_LAST_SEQUENCE || /wrong last sequence/i.test(error.message);
}

/** True when a JetStream API call failed because the stream does not exist. */
export function isStreamNotFound(error: unknown): boolean {
  if (!(error instanceof NatsError)) return false;
  return error.api_error?.err_code === 10059 || error.message === 'stream not found';
}
