/** kiln serve-repo's server: an archive repository's files over HTTP with their bytes logged, nothing else. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { UserError } from '../errors.js';
import { startRepoServer } from './serve-repo.js';

function repo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-serve-repo-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'config'), '[core]\nrepo_version=1\nmode=archive-z2\n');
  mkdirSync(join(dir, 'objects/ab'), { recursive: true });
  writeFileSync(join(dir, 'objects/ab/cdef.filez'), 'x'.repeat(1000));
  writeFileSync(join(dir, '.secret'), 'no');
  return dir;
}

void test('serve-repo: the repository under /repo, each request logged with its bytes, the total counted; nothing outside it', async () => {
  const lines: string[] = [];
  const server = await startRepoServer({ dir: repo(), host: '127.0.0.1', port: 0, path: '/repo', log: (l) => lines.push(l) });
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/repo$/);
    const object = await fetch(`${server.url}/objects/ab/cdef.filez`);
    assert.equal(object.status, 200);
    assert.equal((await object.text()).length, 1000);
    assert.equal((await fetch(`${server.url}/config`)).status, 200);
    const range = await fetch(`${server.url}/objects/ab/cdef.filez`, { headers: { range: 'bytes=0-99' } });
    assert.equal(range.status, 206);
    assert.equal((await range.text()).length, 100);
    for (const path of ['/repo/', '/repo/objects/', '/repo/.secret', '/repo/../etc/passwd', '/repo/missing', '/config']) {
      const res = await fetch(`${new URL(server.url).origin}${path}`);
      assert.ok(res.status >= 400, `${path}: ${res.status}`);
      await res.arrayBuffer();
    }
    assert.ok(lines.includes('GET /repo/objects/ab/cdef.filez 200 1000'), lines.join('\n'));
    assert.ok(lines.includes('GET /repo/objects/ab/cdef.filez 206 100'));
    assert.ok(server.bytes() >= 1100 + 'mode=archive-z2'.length);
  } finally {
    await server.close();
  }
});

void test('serve-repo: a folder that is not an archive repository, or a bad path, is refused with the fix', async (t) => {
  const empty = mkdtempSync(join(tmpdir(), 'kiln-serve-repo-'));
  t.after(() => rmSync(empty, { recursive: true, force: true }));
  const bare = repo();
  writeFileSync(join(bare, 'config'), '[core]\nmode=bare\n');
  for (const [dir, path, message] of [
    [empty, '/repo', /is not an OSTree repository \(it has no config file\)/],
    [join(empty, 'missing'), '/repo', /does not exist/],
    [bare, '/repo', /in mode bare/],
    [repo(), 'repo with space', /--path repo with space: expected a URL path such as \/repo/],
  ] as const) {
    await assert.rejects(startRepoServer({ dir, host: '127.0.0.1', port: 0, path, log: () => {} }), (e) => e instanceof UserError && message.test(e.message));
  }
});
