import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { digestFile, extentsOf, parseExtents, sha256File } from './sparse-hash.js';

const FILEFRAG = `Filesystem type is: ef53
File size of server.raw is 2147483648 (524288 blocks of 4096 bytes)
 ext:     logical_offset:        physical_offset: length:   expected: flags:
   0:        0..       0:   33794048..  33794048:      1:
   1:      260..     278:   33794308..  33794326:     19:
  22:   524287..  524287:   34004991..  34004991:      1:             last,eof
server.raw: 3 extents found
`;

void test('filefrag extents become byte ranges', () => {
  assert.deepEqual(parseExtents(FILEFRAG), [
    { start: 0, end: 4096 },
    { start: 260 * 4096, end: 279 * 4096 },
    { start: 524287 * 4096, end: 524288 * 4096 },
  ]);
});

void test('output that is not an extent table is not trusted', () => {
  assert.equal(parseExtents('FIBMAP unsupported\n'), undefined);
  assert.equal(parseExtents(''), undefined);
});

void test('a sparse file hashes the same as reading every byte, unsynced data included', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-sparse-'));
  try {
    const path = join(dir, 'disk.img');
    const fd = openSync(path, 'w');
    ftruncateSync(fd, 64 * 1024 * 1024 + 123);
    writeSync(fd, Buffer.from('first'), 0, 5, 0);
    writeSync(fd, Buffer.alloc(9 * 1024 * 1024, 7), 0, 9 * 1024 * 1024, 5 * 1024 * 1024 + 3);
    writeSync(fd, Buffer.from('last'), 0, 4, 64 * 1024 * 1024 + 119);
    closeSync(fd);
    const extents = await extentsOf(path);
    assert.ok(extents && extents.length >= 3, `the test file system maps extents (${JSON.stringify(extents)})`);
    assert.equal(await sha256File(path), createHash('sha256').update(readFileSync(path)).digest('hex'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('the digest maps the data blocks, each range with the sha256 of its bytes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-sparse-'));
  try {
    const path = join(dir, 'disk.img');
    const fd = openSync(path, 'w');
    ftruncateSync(fd, 16 * 4096 + 100);
    writeSync(fd, Buffer.alloc(2 * 4096, 1), 0, 2 * 4096, 4096);
    writeSync(fd, Buffer.from('tail'), 0, 4, 16 * 4096 + 10);
    closeSync(fd);
    const digest = await digestFile(path);
    const bytes = readFileSync(path);
    const sum = (from: number, to: number) => createHash('sha256').update(bytes.subarray(from, to)).digest('hex');
    assert.equal(digest.sha256, sum(0, bytes.length));
    assert.deepEqual(digest.ranges, [
      { first: 1, last: 2, sha256: sum(4096, 3 * 4096) },
      { first: 16, last: 16, sha256: sum(16 * 4096, bytes.length) },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a file without holes is hashed whole, without asking filefrag for its map', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-sparse-'));
  const path = process.env.PATH;
  try {
    // A filefrag that leaves a mark: a whole file must not start it (a build hashes every .deb).
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'filefrag'), `#!/bin/sh\ntouch '${join(dir, 'called')}'\nexit 1\n`, { mode: 0o755 });
    process.env.PATH = `${bin}:${path ?? ''}`;
    const file = join(dir, 'package.deb');
    writeFileSync(file, Buffer.alloc(3 * 4096 + 5, 9));
    const digest = await digestFile(file);
    assert.equal(digest.sha256, createHash('sha256').update(readFileSync(file)).digest('hex'));
    assert.deepEqual(digest.ranges.map((r) => [r.first, r.last]), [[0, 3]]);
    assert.equal(existsSync(join(dir, 'called')), false, 'filefrag was started for a file without holes');
  } finally {
    process.env.PATH = path;
    rmSync(dir, { recursive: true, force: true });
  }
});
