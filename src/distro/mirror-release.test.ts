import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { askMirror } from './mirror-release.js';

void test('a file:// mirror: the Release file answers; a missing release lists dists/; only a found one is cached', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-mirror-'));
  mkdirSync(join(dir, 'mirror/dists/bookworm'), { recursive: true });
  mkdirSync(join(dir, 'mirror/dists/sid'), { recursive: true });
  writeFileSync(join(dir, 'mirror/dists/bookworm/Release'), 'Suite: oldstable\nCodename: bookworm\n');
  const mirror = `file://${dir}/mirror`;
  const cache = join(dir, 'cache');
  assert.deepEqual(await askMirror(mirror, 'bookworm', cache), { found: true, codename: 'bookworm', suite: 'oldstable' });
  assert.deepEqual(await askMirror(mirror, 'trixie', cache), { found: false, url: `${mirror}/dists/trixie/Release`, status: 404, has: ['bookworm', 'sid'] });
  const cached = JSON.parse(readFileSync(join(cache, 'mirror-releases.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(Object.keys(cached), [`${mirror} bookworm`]);
  // Within the hour the cached answer is used, even when the mirror has changed since.
  rmSync(join(dir, 'mirror/dists/bookworm'), { recursive: true });
  assert.deepEqual(await askMirror(mirror, 'bookworm', cache), { found: true, codename: 'bookworm', suite: 'oldstable' });
  assert.deepEqual(await askMirror(mirror, 'bookworm', undefined), { found: false, url: `${mirror}/dists/bookworm/Release`, status: 404, has: ['sid'] });
  assert.ok(existsSync(cache));
  rmSync(dir, { recursive: true });
});
