/**
 * Following a Server-Sent Events stream from `kiln remote`: a reader that reconnects with
 * Last-Event-ID, so a dropped connection loses and repeats nothing. The parser is the web
 * interface's (src/web/client/sse.ts).
 */
import { ApiError, backoffMs, sleep, type ApiClient } from '../worker/api.js';
import { SseParser, type SseMessage } from '../web/client/sse.js';

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
