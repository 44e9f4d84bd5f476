import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { isBackup, packList, packStream } from './remote-pack.js';

void test('editor backups and swap files are recognized, ordinary names are not', () => {
  for (const name of ['recipe.yaml~', '.recipe.yaml.swp', '.x.swo', '#recipe.yaml#', '.#recipe.yaml', 'a.bak', 'a.orig', 'a.rej', '.DS_Store']) assert.ok(isBackup(name), name);
  for (const name of ['recipe.yaml', 'hooks', '.hidden', 'swp', 'a.swp.yaml', 'back~up']) assert.ok(!isBackup(name), name);
});

void test('a folder packs sorted and reproducibly, without backups, VCS folders or kiln outputs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-pack-'));
  try {
    writeFileSync(join(dir, 'recipe.yaml'), 'name: x\n');
    writeFileSync(join(dir, 'recipe.yaml~'), 'old');
    writeFileSync(join(dir, '.recipe.yaml.swp'), 'swap');
    mkdirSync(join(dir, 'hooks'));
    writeFileSync(join(dir, 'hooks', 'post.sh'), '#!/bin/sh\n', { mode: 0o755 });
    writeFileSync(join(dir, 'hooks', '#post.sh#'), 'emacs');
    mkdirSync(join(dir, '.git'));
    writeFileSync(join(dir, '.git', 'HEAD'), 'ref');
    mkdirSync(join(dir, 'out', 'x'), { recursive: true });
    writeFileSync(join(dir, 'out', 'x', 'build.json'), '{}');
    writeFileSync(join(dir, 'out', 'x', 'SHA256SUMS'), '');
    symlinkSync('hooks/post.sh', join(dir, 'link'));
    const { entries, skipped } = await packList(dir);
    assert.deepEqual(entries.map((e) => `${e.type} ${e.path}`), ['directory hooks', 'file hooks/post.sh', 'symlink link', 'directory out', 'file recipe.yaml']);
    assert.deepEqual(skipped.sort(), ['#post.sh#', '.git/', '.recipe.yaml.swp', 'out/x/', 'recipe.yaml~'].map((s) => (s === '#post.sh#' ? 'hooks/#post.sh#' : s)).sort());
    const bytes = await buffer(packStream(entries));
    assert.deepEqual(await buffer(packStream(entries)), bytes, 'the same folder packs to the same bytes');
    const seen: string[] = [];
    const extract = tar.extract();
    Readable.from([gunzipSync(bytes)]).pipe(extract);
    for await (const entry of extract) {
      seen.push(`${entry.header.name} ${(entry.header.mode ?? 0).toString(8)} ${entry.header.linkname ?? ''}`.trim());
      entry.resume();
    }
    assert.deepEqual(seen, ['hooks/ 755', 'hooks/post.sh 755', 'link 777 hooks/post.sh', 'out/ 755', 'recipe.yaml 644']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
