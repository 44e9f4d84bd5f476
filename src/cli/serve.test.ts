import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { UserError } from '../errors.js';
import { createServeToken, parseByteSize, parseListen, serve } from './serve.js';

void describe('kiln serve', () => {
  void it('reads --listen and --max-upload, refusing what they cannot be', () => {
    assert.deepEqual(parseListen('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
    assert.deepEqual(parseListen('[::1]:9000'), { host: '::1', port: 9000 });
    assert.throws(() => parseListen('8080'), UserError);
    assert.throws(() => parseListen('host:70000'), /--listen host:70000: expected HOST:PORT/);
    assert.equal(parseByteSize('--max-upload', '256M'), 256 * 1024 * 1024);
    assert.throws(() => parseByteSize('--max-upload', '50%'), /--max-upload 50%: expected a size/);
  });

  void it('prints the admin token once on a fresh service, serves the API and the web interface on 127.0.0.1, and stops on the signal', async () => {
    const data = await mkdtemp(join(tmpdir(), 'kiln-serve-test-'));
    try {
      const run = async () => {
        const lines: string[] = [];
        const stop = new AbortController();
        let listening: (url: string) => void = () => undefined;
        const url = new Promise<string>((resolve) => (listening = resolve));
        const done = serve({ listen: '127.0.0.1:0', data, workers: 0 }, stop.signal, (line) => {
          lines.push(line);
          const m = /listening on (http:\/\/\S+)/.exec(line);
          if (m?.[1]) listening(m[1]);
        });
        const base = await Promise.race([url, done.then(() => 'ended early')]);
        assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
        return { lines, base, stop: () => (stop.abort(), done) };
      };
      const first = await run();
      const token = /^\s+(kiln_\S+)$/m.exec(first.lines.join('\n'))?.[1];
      assert.ok(token, first.lines.join('\n'));
      assert.equal((await fetch(`${first.base}/healthz`)).status, 200);
      const page = await fetch(`${first.base}/`);
      assert.equal(page.status, 200, 'the web interface needs no token');
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
      assert.equal((await fetch(`${first.base}/v1/builds`)).status, 401);
      assert.equal((await fetch(`${first.base}/v1/builds`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
      await first.stop();
      const made = await createServeToken({ data, name: 'ci', scopes: ['read,build'] });
      const second = await run();
      assert.ok(!second.lines.join('\n').includes('admin token'), 'printed once only');
      assert.equal((await fetch(`${second.base}/v1/recipes`, { headers: { authorization: `Bearer ${made}` } })).status, 200);
      assert.equal((await fetch(`${second.base}/v1/builds/0000000000zzzz/cancel`, { method: 'POST', headers: { authorization: `Bearer ${made}` } })).status, 404, 'build scope');
      assert.equal((await fetch(`${second.base}/v1/tokens`, { headers: { authorization: `Bearer ${made}` } })).status, 403);
      await second.stop();
      await assert.rejects(createServeToken({ data, name: 'x', scopes: ['root'] }), /--scope root: expected one of read, build, admin, worker/);
    } finally {
      await rm(data, { recursive: true, force: true });
    }
  });
});
