import { describe, expect, it } from 'vitest';
import { parseEventStream, type ServerSentEvent } from './sse';

async function collect(chunks: Array<string | Uint8Array>): Promise<ServerSentEvent[]> {
  const events: ServerSentEvent[] = [];
  async function* source() {
    for (const chunk of chunks) yield chunk;
  }
  for await (const event of parseEventStream(source())) events.push(event);
  return events;
}

describe('parseEventStream', () => {
  it('dispatches an event at each blank line with its type, data and id', async () => {
    expect(await collect(['event: workflow.changed\nid: wf-1:3\ndata: {"a":1}\n\n'])).toEqual([{ event: 'workflow.changed', data: '{"a":1}', id: 'wf-1:3' }]);
  });

  it('joins several data lines with newlines and defaults the type to message', async () => {
    expect(await collect(['data: one\ndata: two\n\n'])).toEqual([{ event: 'message', data: 'one\ntwo', id: null }]);
  });

  it('reassembles lines split across chunks, including a CRLF split between chunks and multi-byte characters', async () => {
    const bytes = new TextEncoder().encode('data: café\r\n\r\n');
    const cut = bytes.indexOf(0xc3) + 1;
    expect(await collect(['event: x\r', '\n', bytes.slice(0, cut), bytes.slice(cut)])).toEqual([{ event: 'x', data: 'café', id: null }]);
  });

  it('skips comments (heartbeats) and events without data, and keeps the last id for later events', async () => {
    expect(await collect([': ping\n\n', 'id: 5\nevent: only-id\n\n', 'data: later\n\n'])).toEqual([{ event: 'message', data: 'later', id: '5' }]);
  });

  it('discards an event the stream ended before closing', async () => {
    expect(await collect(['data: complete\n\n', 'data: cut off'])).toEqual([{ event: 'message', data: 'complete', id: null }]);
  });
});
