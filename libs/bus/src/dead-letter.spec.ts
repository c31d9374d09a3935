import { describe, expect, it } from 'vitest';
import { DeadLetter, SchemaValidationError } from '@troupe/contracts';
import { DEAD_LETTER_MAX_DATA_BYTES, buildDeadLetter, type DeadLetterInput } from './dead-letter';
import { deadLetterOriginMismatch } from './dead-letters';

const input = (data: Uint8Array, error: unknown = new Error('boom')): DeadLetterInput => ({
  origin: 'orchestrator',
  stream: 'WF_EVENTS',
  subject: 'troupe.wf.1.x',
  streamSequence: 7,
  deliveryCount: 1,
  headers: undefined,
  data,
  error,
});

describe('buildDeadLetter', () => {
  it('keeps a small body whole, with its size', () => {
    const letter = DeadLetter.parse(buildDeadLetter(input(new TextEncoder().encode('not json')), new Date(0)));
    expect(Buffer.from(letter.dataBase64, 'base64').toString()).toBe('not json');
    expect(letter.dataBytes).toBe(8);
    expect(letter.dataTruncated).toBeUndefined();
  });

  it('cuts a body near max_payload so the dead letter fits the stream, and says so', () => {
    const data = new Uint8Array(900_000).fill(120);
    const letter = DeadLetter.parse(buildDeadLetter(input(data), new Date(0)));
    expect(Buffer.from(letter.dataBase64, 'base64').byteLength).toBe(DEAD_LETTER_MAX_DATA_BYTES);
    expect(letter.dataBytes).toBe(900_000);
    expect(letter.dataTruncated).toBe(true);
    expect(JSON.stringify(letter).length).toBeLessThan(1_048_576);
  });

  it('clips a huge reason and a long list of issues', () => {
    const issues = Array.from({ length: 500 }, (_, i) => `field${i}: ${'bad '.repeat(500)}`);
    const letter = buildDeadLetter(input(new Uint8Array(1), new SchemaValidationError('envelope', issues)), new Date(0));
    expect(letter.reason.length).toBeLessThan(8_300);
    expect(letter.issues).toHaveLength(51);
    expect(letter.issues.at(-1)).toBe('… 450 more issues');
  });
});

describe('deadLetterOriginMismatch', () => {
  const letter = (consumer: string, subject: string) => buildDeadLetter({ ...input(new Uint8Array(1)), origin: consumer, subject }, new Date(0));

  it('lets a dead letter replay to a subject its consumer consumes', () => {
    expect(deadLetterOriginMismatch('troupe.dlq.orchestrator', letter('orchestrator', 'troupe.wf.3.triage-1.approval.decided'))).toBeNull();
    expect(deadLetterOriginMismatch('troupe.dlq.agent-classifier', letter('agent-classifier', 'troupe.agent.classifier.task'))).toBeNull();
    expect(deadLetterOriginMismatch('troupe.dlq.orchestrator-timers', letter('orchestrator-timers', 'troupe.timer.4'))).toBeNull();
  });

  it('refuses a dead letter forged by another consumer to replay a workflow event', () => {
    expect(deadLetterOriginMismatch('troupe.dlq.agent-classifier', letter('agent-classifier', 'troupe.wf.3.triage-1.approval.decided'))).toContain('does not consume');
    expect(deadLetterOriginMismatch('troupe.dlq.agent-classifier', letter('orchestrator', 'troupe.wf.3.triage-1.approval.decided'))).toContain('stored on troupe.dlq.agent-classifier');
  });
});
