/**
 * Server-Sent Events, read by hand from a fetch body: the parser of the HTML standard's event
 * stream format (fields id, event, data, retry; ":" comments; a blank line ends an event), fed
 * chunks as they arrive, whatever their boundaries, and a reader that reconnects with
 * Last-Event-ID so a dropped connection loses and repeats nothing.
 */
import { ApiError, backoffMs, sleep, type ApiClient } from '../worker/api.js';

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

export interface FollowOptions {
  signal?: AbortSignal;
  /** Resume after this event id. */
  after?: string;
  /** Called for each message; return true to stop reading. */
  onMessage: (m: SseMessage) => boolean | void;
  /** Told about a reconnection (for a note on the terminal). */
  onReconnect?: (err: Error) => void;
}

/**
 * Reads an event stream until the server ends it or `onMessage` says stop. A dropped connection
 * or a server error is retried, resuming with Last-Event-ID; a refusal (4xx) is thrown.
 */
export async function followStream(api: ApiClient, path: string, o: FollowOptions): Promise<void> {
  let lastId = o.after ?? '';
  let retryMs: number | undefined;
  let emptyEnds = 0;
  for (let failures = 0; !o.signal?.aborted; ) {
    const parser = new SseParser();
    parser.lastEventId = lastId;
    try {
      const response = await api.request('GET', path, {
        headers: { accept: 'text/event-stream', ...(lastId ? { 'last-event-id': lastId } : {}) },
        ...(o.signal ? { signal: o.signal } : {}),
      });
      if (!response.body) return;
      let messages = 0;
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        failures = 0;
        for (const m of parser.push(chunk)) {
          messages += 1;
          lastId = m.id;
          if (o.onMessage(m) === true) {
            await response.body.cancel().catch(() => undefined);
            return;
          }
        }
        retryMs = parser.retryMs ?? retryMs;
      }
      // The server ends the stream when the build is over (the caller stops at its final event
      // first) or when it shuts down: then resume. Twice nothing new: nothing more will come.
      emptyEnds = messages ? 0 : emptyEnds + 1;
      if (emptyEnds >= 2) return;
      await sleep(retryMs ?? 1000, o.signal);
    } catch (err) {
      if (o.signal?.aborted) return;
      if (err instanceof ApiError && !err.retryable) throw err;
      o.onReconnect?.(err instanceof Error ? err : new Error(String(err)));
      await sleep(Math.max(retryMs ?? 0, backoffMs(failures++, 15_000)), o.signal);
    }
  }
}
