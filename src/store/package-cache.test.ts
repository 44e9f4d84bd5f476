import assert from 'node:assert/strict';
import { existsSync, linkSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectPackages, debKey } from './package-cache.js';

void test('only installed packages enter the lock; linked-in .debs of other recipes are neither counted nor aged', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-pkgcache-'));
  try {
    const cache = join(dir, 'cache');
    const out = join(dir, 'out');
    mkdirSync(cache);
    mkdirSync(out);
    // In the cache and installed; in the cache, linked in by the setup hook, but never installed;
    // downloaded by apt and installed (epoch as %3a).
    writeFileSync(join(cache, 'zstd_1.5.6-1_amd64.deb'), 'zstd');
    writeFileSync(join(cache, 'dbus_1.16-1_amd64.deb'), 'dbus');
    linkSync(join(cache, 'zstd_1.5.6-1_amd64.deb'), join(out, 'zstd_1.5.6-1_amd64.deb'));
    linkSync(join(cache, 'dbus_1.16-1_amd64.deb'), join(out, 'dbus_1.16-1_amd64.deb'));
    writeFileSync(join(out, 'systemd_1%3a257-1_amd64.deb'), 'systemd');
    const installed = new Set([debKey({ name: 'zstd', version: '1.5.6-1', arch: 'amd64' }), debKey({ name: 'systemd', version: '1:257-1', arch: 'amd64' })]);

    const use = await collectPackages(out, cache, installed);
    assert.deepEqual(
      use.debs.map((d) => `${d.name} ${d.version}`),
      ['systemd 1:257-1', 'zstd 1.5.6-1'],
    );
    assert.equal(use.reused, 1);
    assert.equal(use.downloaded, 1);
    assert.ok(existsSync(join(cache, 'systemd_1%3a257-1_amd64.deb')), 'a download is kept in the cache');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
