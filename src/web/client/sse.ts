/**
 * Server-Sent Events read by hand from a fetch body (EventSource cannot send the bearer token),
 * for the web interface and for `kiln remote`: the HTML standard's event stream format (fields id,
 * event, data, retry; ":" comments; a blank line ends an event), fed chunks as they arrive,
 * whatever their boundaries (CRLF, CR or LF; a UTF-8 character split across chunks). Pure, and
 * free of Node and DOM APIs, so the browser and the CLI run the same code.
 */

export interface SseMessage {
  /** The last id seen so far in the stream (ids carry over to later events, as the standard says). */
  id: string;
  event: string;
  data: string;
}

export class SseParser {
  lastEventId = '';
  /** The reconnection delay the server asked for. */
  retryMs: number | undefined;
  private readonly decoder = new TextDecoder('utf-8');
  private buffer = '';
  private started = false;
  /** A chunk that ended in "\r": a "\n" starting the next one belongs to the same line end. */
  private pendingCr = false;
  private data: string[] = [];
  private event = '';

  push(chunk: Uint8Array | string): SseMessage[] {
    let text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    if (!this.started && text.length) {
      this.started = true;
      if (text.startsWith('\ufeff')) text = text.slice(1);
    }
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    const out: SseMessage[] = [];
    for (;;) {
      const at = this.buffer.search(/[\r\n]/);
      if (at < 0) break;
      const line = this.buffer.slice(0, at);
      let next = at + 1;
      if (this.buffer[at] === '\r') {
        if (next === this.buffer.length) this.pendingCr = true;
        else if (this.buffer[next] === '\n') next += 1;
      }
      this.buffer = this.buffer.slice(next);
      const message = this.line(line);
      if (message) out.push(message);
    }
    return out;
  }

  /** The stream ended: an event without its closing blank line is dropped, as the standard says. */
  end(): void {
    this.buffer = '';
    this.data = [];
    this.event = '';
    this.pendingCr = false;
  }

  private line(line: string): SseMessage | undefined {
    if (line === '') {
      const data = this.data;
      const event = this.event;
      this.data = [];
      this.event = '';
      if (!data.length) return undefined;
      return { id: this.lastEventId, event: event || 'message', data: data.join('\n') };
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
    return undefined;
  }
}
