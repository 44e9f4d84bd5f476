import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { makeTar, type TarEntry } from '../service/test-support/harness.js';
import { safeLinkTarget, safePath, unpackBundle } from './bundle.js';

const tarOf = (entries: TarEntry[]) => makeTar(entries);

async function unpack(bytes: Buffer): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bundle-'));
  try {
    await unpackBundle(Readable.from([bytes]), dir);
    return dir;
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

void test('paths: plain relative ones pass, normalized; absolute ones and ".." are refused', () => {
  assert.equal(safePath('./a//b/./c'), 'a/b/c');
  assert.throws(() => safePath('/etc/passwd'), { name: 'BundleError', message: '/etc/passwd: an absolute path in the bundle' });
  assert.throws(() => safePath('a/../../b'), { message: 'a/../../b: ".." in a path of the bundle' });
  assert.throws(() => safePath('./'), { message: '"./": an empty path in the bundle' });
  safeLinkTarget('a/b/link', '../c');
  assert.throws(() => safeLinkTarget('a/link', '../../x'), { message: 'a/link: a link to ../../x, out of the bundle' });
  assert.throws(() => safeLinkTarget('link', '/etc'), { message: 'link: a link to the absolute path /etc' });
});

void test('files, folders and links inside unpack (tar and tar.gz); setuid bits are dropped', async () => {
  const bytes = await tarOf([
    { name: 'recipe.yaml', body: 'name: x\n', mode: 0o644 },
    { name: 'hooks/', type: 'directory', mode: 0o755 },
    { name: 'hooks/run.sh', body: '#!/bin/sh\n', mode: 0o4755 },
    { name: 'link', type: 'symlink', linkname: 'hooks/run.sh' },
  ]);
  for (const form of [bytes, gzipSync(bytes)]) {
    const dir = await unpack(form);
    try {
      assert.equal(readFileSync(join(dir, 'recipe.yaml'), 'utf8'), 'name: x\n');
      assert.equal(statSync(join(dir, 'hooks/run.sh')).mode & 0o7777, 0o755);
      assert.equal(readlinkSync(join(dir, 'link')), 'hooks/run.sh');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

void test('hostile bundles are refused before anything lands outside', async () => {
  const cases: [TarEntry[], RegExp][] = [
    [[{ name: '../evil', body: 'x' }], /"\.\." in a path/],
    [[{ name: '/tmp/evil', body: 'x' }], /an absolute path/],
    [[{ name: 'out', type: 'symlink', linkname: '../../..' }], /out of the bundle/],
    // Each link alone stays inside; writing through the first would not.
    [
      [
        { name: 'a', type: 'symlink', linkname: '.' },
        { name: 'a/l', type: 'symlink', linkname: '..' },
      ],
      /a\/l: written through the link a/,
    ],
    [[{ name: 'dev', type: 'character-device' }], /a character-device entry/],
    [[{ name: 'fifo', type: 'fifo' }], /a fifo entry/],
  ];
  for (const [entries, message] of cases) {
    await assert.rejects(unpack(await tarOf(entries)), message, JSON.stringify(entries));
  }
  assert.throws(() => lstatSync(join(tmpdir(), 'evil')));
});
