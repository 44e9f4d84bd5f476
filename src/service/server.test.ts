/** The server on a real 127.0.0.1 port: what app.inject cannot show (streams over sockets, close). */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createToken } from './auth/tokens.js';
import { openServiceStore } from './db/index.js';
import { wakeKey, Wakeups } from './db/notify.js';
import type { ServiceStore } from './db/service-store.js';
import { startServer } from './server.js';
import { HELLO } from './test-support/harness.js';

void describe('startServer', () => {
  void it('listens on 127.0.0.1, streams events with keep-alive comments, and ends open streams on close', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'kiln-server-test-'));
    const store = await openServiceStore({ sqliteFile: join(dataDir, 'kiln.db') });
    const server = await startServer({ store, dataDir, port: 0, logger: false, sseHeartbeatMs: 150 });
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const { token } = await createToken(store, 't', ['admin']);
      const headers = { authorization: `Bearer ${token}` };
      const push = await fetch(`${server.url}/v1/recipes`, { method: 'POST', headers: { ...headers, 'content-type': 'application/yaml' }, body: HELLO });
      assert.equal(push.status, 201);
      const build = await fetch(`${server.url}/v1/builds`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ recipe: 'hello' }) });
      const { id } = (await build.json()) as { id: string };
      const stream = await fetch(`${server.url}/v1/builds/${id}/events`, { headers });
      assert.equal(stream.headers.get('content-type'), 'text/event-stream; charset=utf-8');
      const reader = stream.body!.getReader();
      let text = '';
      const deadline = Date.now() + 5000;
      while (!text.includes(': heartbeat') && Date.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString();
      }
      assert.match(text, /^id: 1\nevent: state\ndata: \{.*"state":"queued".*\}$/m);
      assert.match(text, /^: heartbeat$/m, 'a quiet stream gets a comment');
      const closing = server.close();
      for (;;) {
        const { done } = await reader.read();
        if (done) break;
      }
      await closing;
    } finally {
      await server.close().catch(() => undefined);
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  void it('an event stored between the stream reading the store and waiting is sent at once, not at the next heartbeat', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'kiln-server-test-'));
    const real = await openServiceStore({ sqliteFile: join(dataDir, 'kiln.db') });
    // The store's wake-ups without SQLite's one-second cap, and a read that an event overtakes: the
    // event is stored and its wake-up fires after the stream read the (empty) page, before it waits.
    const wakeups = new Wakeups();
    let streamReads = 0;
    const store: ServiceStore = Object.create(real, {
      waitForEvents: { value: (id: string, ms: number, signal?: AbortSignal) => wakeups.wait(wakeKey('events', id), ms, signal) },
      events: {
        value: async (id: string, after: number, limit: number) => {
          const page = await real.events(id, after, limit);
          if (++streamReads === 2) {
            await real.appendEvent(id, { type: 'log', time: new Date().toISOString(), line: 'stored while the stream was reading' });
            wakeups.wake(wakeKey('events', id));
          }
          return page;
        },
      },
    }) as ServiceStore;
    const server = await startServer({ store, dataDir, port: 0, logger: false, sseHeartbeatMs: 2000 });
    try {
      const { token } = await createToken(store, 't', ['admin']);
      const headers = { authorization: `Bearer ${token}` };
      await fetch(`${server.url}/v1/recipes`, { method: 'POST', headers: { ...headers, 'content-type': 'application/yaml' }, body: HELLO });
      const build = await fetch(`${server.url}/v1/builds`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ recipe: 'hello' }) });
      const { id } = (await build.json()) as { id: string };
      const reader = (await fetch(`${server.url}/v1/builds/${id}/events`, { headers })).body!.getReader();
      let text = '';
      while (!/stored while the stream was reading|: heartbeat/.test(text)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString();
      }
      assert.equal(streamReads >= 2, true, 'the stream read the store twice');
      assert.match(text, /stored while the stream was reading/, 'the event came before the heartbeat');
      assert.doesNotMatch(text, /: heartbeat/);
      await reader.cancel();
    } finally {
      await server.close().catch(() => undefined);
      await real.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
