/**
 * Follows a build's Server-Sent Events with fetch (so the bearer token goes in a header, never in a
 * URL), resuming with Last-Event-ID after a dropped connection: no event is lost or seen twice.
 */
import { api, ApiError, request, type StreamEvent } from './api.js';
import { SseParser } from './sse.js';

export type StreamStatus = { kind: 'live' } | { kind: 'reconnecting' } | { kind: 'ended' } | { kind: 'failed'; error: unknown };

const FINAL = new Set(['succeeded', 'failed', 'canceled']);
const RETRY_MS = 1500;

export function followBuild(id: string, onEvent: (e: StreamEvent) => void, onStatus: (s: StreamStatus) => void): () => void {
  const controller = new AbortController();
  let lastSeq = 0;
  let final = false;

  const connect = async (): Promise<void> => {
    const parser = new SseParser();
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (lastSeq) headers['last-event-id'] = String(lastSeq);
    const response = await request('GET', api.eventsUrl(id), { headers, signal: controller.signal });
    onStatus({ kind: 'live' });
    const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
    if (!reader) return;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      for (const message of parser.push(value)) {
        let event: StreamEvent;
        try {
          event = JSON.parse(message.data) as StreamEvent;
        } catch {
          continue; // a keep-alive or a message this page does not know
        }
        if (typeof event.seq !== 'number' || event.seq <= lastSeq) continue;
        lastSeq = event.seq;
        if (event.type === 'state' && FINAL.has(event.state)) final = true;
        onEvent(event);
      }
    }
  };

  const loop = async () => {
    while (!controller.signal.aborted) {
      try {
        await connect();
        // The server ends the stream once the build has ended; ask, in case its final event predates this page.
        if (!final) final = FINAL.has((await api.build(id)).state);
        if (final) {
          onStatus({ kind: 'ended' });
          return;
        }
      } catch (err) {
        if (controller.signal.aborted) return;
        if (err instanceof ApiError && err.status !== 0 && err.status < 500) {
          onStatus({ kind: 'failed', error: err });
          return;
        }
      }
      if (controller.signal.aborted) return;
      onStatus({ kind: 'reconnecting' });
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  };
  void loop();
  return () => controller.abort();
}
