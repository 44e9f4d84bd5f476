import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { removeAbandonedUploads } from './abandoned.js';

void test('only temporary upload files untouched for an hour go; artifacts and live uploads stay', async () => {
  const root = mkdtempSync(join(tmpdir(), 'kiln-abandoned-'));
  try {
    const lease = join(root, 'build1', 'lease1');
    mkdirSync(lease, { recursive: true });
    mkdirSync(join(root, 'recipes'));
    const old = Date.now() / 1000 - 2 * 3600;
    const files = {
      stale: join(lease, '.tmp-ab12-image.raw'),
      staleBundle: join(root, 'recipes', '.tmp-cd34.tar'),
      live: join(lease, '.tmp-ef56-build.json'),
      artifact: join(lease, 'image.raw'),
    };
    for (const file of Object.values(files)) writeFileSync(file, 'x');
    for (const file of [files.stale, files.staleBundle, files.artifact]) utimesSync(file, old, old);

    const removed = await removeAbandonedUploads(root);
    assert.deepEqual(removed.sort(), [files.stale, files.staleBundle].sort());
    assert.ok(existsSync(files.live), 'an upload still being written stays');
    assert.ok(existsSync(files.artifact), 'a stored artifact stays, however old');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
