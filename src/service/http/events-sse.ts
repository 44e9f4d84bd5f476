/**
 * GET /v1/builds/:id/events as Server-Sent Events. Each event's `id:` is its seq, so a client that
 * reconnects with `Last-Event-ID` (or `?after=`) gets exactly the events after the last it saw:
 * replayed from the store, then followed as they are stored. The stream ends once the build has
 * ended and every event was sent; a comment every 15 s keeps proxies from closing a quiet stream.
 */
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import type { App, ServiceContext } from '../context.js';
import { ErrorBody, FINAL_STATES, type BuildStreamEvent } from '../protocol.js';
import { BuildParams, findBuild } from './builds.js';
import { ApiError } from './errors.js';

/** After a final build's last event: how long to wait for one that raced the state change. */
const SETTLE_MS = 1_000;
const PAGE = 500;

export function formatEvent(e: BuildStreamEvent): string {
  return `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}

async function write(raw: ServerResponse, text: string, signal: AbortSignal): Promise<void> {
  if (!raw.write(text)) await once(raw, 'drain', { signal });
}

function startAfter(header: string | string[] | undefined, query: number | undefined): number {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value === '') return query ?? 0;
  if (!/^\d{1,15}$/.test(value)) throw new ApiError(400, 'invalid_request', `headers.last-event-id: ${JSON.stringify(value)} is not an event id this server sent`);
  return Number(value);
}

export function eventRoutes(app: App, ctx: ServiceContext): void {
  app.get(
    '/v1/builds/:id/events',
    {
      config: { auth: ['read'] },
      schema: {
        tags: ['builds'],
        description: 'text/event-stream of BuildStreamEvent; resume with Last-Event-ID or ?after=SEQ.',
        params: BuildParams,
        querystring: z.strictObject({ after: z.coerce.number().int().min(0).optional() }),
        response: { 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const id = request.params.id;
      await findBuild(ctx, id);
      let after = startAfter(request.headers['last-event-id'], request.query.after);
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no', 'x-request-id': request.id });
      const abort = new AbortController();
      const stop = () => abort.abort();
      raw.on('close', stop);
      ctx.closing.addEventListener('abort', stop);
      let lastWrite = Date.now();
      let finalSent = false;
      let settling = false;
      try {
        await write(raw, 'retry: 2000\n\n', abort.signal);
        while (!abort.signal.aborted) {
          // Listen before reading: an event stored between the read and the wait would otherwise
          // sit unsent until the next heartbeat (the wake-up came before anyone listened).
          const read = new AbortController();
          const woken = ctx.store.waitForEvents(id, Math.max(1, ctx.sseHeartbeatMs - (Date.now() - lastWrite)), AbortSignal.any([abort.signal, read.signal]));
          try {
            // The state first: events stored before a final state was read are all in the page below.
            const build = await findBuild(ctx, id);
            const page = await ctx.store.events(id, after, PAGE);
            for (const e of page) {
              await write(raw, formatEvent(e), abort.signal);
              after = e.seq;
              if (e.type === 'state' && FINAL_STATES.includes(e.state)) finalSent = true;
            }
            if (page.length) {
              lastWrite = Date.now();
              continue;
            }
            if (FINAL_STATES.includes(build.state)) {
              if (finalSent || settling) break;
              settling = true;
              await Promise.race([woken, new Promise((resolve) => setTimeout(resolve, SETTLE_MS).unref())]);
              continue;
            }
            await woken;
            if (Date.now() - lastWrite >= ctx.sseHeartbeatMs && !abort.signal.aborted) {
              await write(raw, ': heartbeat\n\n', abort.signal);
              lastWrite = Date.now();
            }
          } finally {
            read.abort();
          }
        }
      } catch (err) {
        if (!abort.signal.aborted) request.log.warn({ err, build: id }, 'event stream ended by an error');
      } finally {
        ctx.closing.removeEventListener('abort', stop);
        raw.end();
      }
    },
  );
}
