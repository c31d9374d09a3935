/** One Server-Sent Event as dispatched by the parser. */
export interface ServerSentEvent {
  /** `event:` field; `message` when absent. */
  event: string;
  /** `data:` lines joined with `\n`. */
  data: string;
  /** `id:` field of this event, or the last one seen; null before any. */
  id: string | null;
}

/**
 * Parses a `text/event-stream` body into events, following the WHATWG HTML "Server-sent events"
 * interpretation rules (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
 * lines end in CRLF, LF or CR; a line starting with `:` is a comment (heartbeat); a blank line dispatches
 * the event if it has data; `retry:` and unknown fields are ignored.
 */
export async function* parseEventStream(chunks: AsyncIterable<Uint8Array | string>): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let lastId: string | null = null;
  const lineOf = (line: string): ServerSentEvent | null => {
    if (line === '') {
      const dispatched = data.length > 0 ? { event: event || 'message', data: data.join('\n'), id: lastId } : null;
      event = '';
      data = [];
      return dispatched;
    }
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id' && !value.includes('\0')) lastId = value;
    return null;
  };
  for await (const chunk of chunks) {
    buffer += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    for (;;) {
      const match = /\r\n|\n|\r/.exec(buffer);
      // A lone CR at the end may be the first half of CRLF: wait for the next chunk.
      if (match === null || (match[0] === '\r' && match.index === buffer.length - 1)) break;
      const line = buffer.slice(0, match.index);
      buffer = buffer.slice(match.index + match[0].length);
      const dispatched = lineOf(line);
      if (dispatched) yield dispatched;
    }
  }
  // The stream ended: an event without its closing blank line is discarded, as the spec says.
}
