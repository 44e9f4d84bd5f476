import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { compareContents, contentsText, dataSha256, parseContents, recordEntry, tarXattrs } from './entry-hashes.js';

const base = mkdtempSync(join(tmpdir(), 'kiln-entry-hashes-'));
after(() => rmSync(base, { recursive: true, force: true }));
const isRoot = process.getuid?.() === 0;

function entry(name: string): string {
  const dir = join(base, name);
  mkdirSync(join(dir, 'tree/etc'), { recursive: true });
  writeFileSync(join(dir, 'tree/etc/hostname'), 'kiln\n', { mode: 0o644 });
  symlinkSync('hostname', join(dir, 'tree/etc/name'));
  return dir;
}

void test('a tree is recorded path by path, in a stable order, with hashes and metadata', async () => {
  const dir = entry('plain');
  const records = await recordEntry(dir, 'tree');
  assert.deepEqual(records.map((r) => [r.path, r.type]), [['tree', 'dir'], ['tree/etc', 'dir'], ['tree/etc/hostname', 'file'], ['tree/etc/name', 'symlink']]);
  const hostname = records[2];
  assert.equal(hostname?.sha256, createHash('sha256').update('kiln\n').digest('hex'));
  assert.equal(hostname?.size, 5);
  assert.equal(hostname?.mode, '0644');
  assert.equal(records[3]?.target, 'hostname');
  assert.deepEqual(parseContents(contentsText(records)), records, 'the manifest reads back as written');
});

void test('whiteouts are 0:0 character devices and opaque folders carry their overlayfs xattr', { skip: !isRoot && 'needs root (mknod, overlayfs)' }, async () => {
  const dir = join(base, 'overlay');
  for (const d of ['lower/gone', 'lower/keep', 'upper', 'work', 'mnt']) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, 'lower/gone/file'), 'x');
  writeFileSync(join(dir, 'lower/keep/file'), 'x');
  const mount = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${dir}/lower,upperdir=${dir}/upper,workdir=${dir}/work`, join(dir, 'mnt')]);
  assert.equal(mount.status, 0, String(mount.stderr));
  try {
    rmSync(join(dir, 'mnt/keep/file'));
    rmSync(join(dir, 'mnt/gone'), { recursive: true });
    mkdirSync(join(dir, 'mnt/gone'));
  } finally {
    spawnSync('umount', [join(dir, 'mnt')]);
  }
  const records = await recordEntry(dir, 'upper');
  const byPath = new Map(records.map((r) => [r.path, r]));
  assert.equal(byPath.get('upper/keep/file')?.type, 'char');
  assert.equal(byPath.get('upper/keep/file')?.rdev, '0:0');
  assert.deepEqual(byPath.get('upper/gone')?.xattrs, { 'trusted.overlay.opaque': 'y' });
});

void test('one flipped byte, a removed file, an extra file and a changed mode are each named', async () => {
  const dir = entry('changed');
  const recorded = await recordEntry(dir, 'tree');
  writeFileSync(join(dir, 'tree/etc/hostname'), 'kilm\n');
  writeFileSync(join(dir, 'tree/etc/extra'), '');
  rmSync(join(dir, 'tree/etc/name'));
  const differences = compareContents(recorded, await recordEntry(dir, 'tree'));
  assert.deepEqual(
    differences.map((d) => d.path),
    ['tree/etc', 'tree/etc/hostname', 'tree/etc/name', 'tree/etc/extra'],
  );
  assert.match(differences[1]?.message ?? '', /sha256 [0-9a-f]{12}… is now [0-9a-f]{12}…$/);
  assert.equal(differences[2]?.message, 'symlink is missing');
  assert.equal(differences[3]?.message, 'unexpected file (not recorded when the entry was stored)');
});

void test('a sparse file hashes by content: the same bytes with other holes agree, one changed byte does not', async () => {
  const size = 8 * 1024 * 1024 + 100;
  const write = (name: string, dense: boolean, byte: number) => {
    const path = join(base, name);
    const fd = openSync(path, 'w');
    if (dense) writeSync(fd, Buffer.alloc(size), 0, size, 0);
    writeSync(fd, Buffer.from([byte]), 0, 1, 5 * 1024 * 1024 + 7);
    writeSync(fd, Buffer.from([0]), 0, 1, size - 1);
    closeSync(fd);
    return path;
  };
  const digest = async (path: string) => {
    const handle = await open(path);
    try {
      return await dataSha256(handle, path, size);
    } finally {
      await handle.close();
    }
  };
  const sparse = await digest(write('sparse', false, 1));
  assert.equal(await digest(write('dense', true, 1)), sparse);
  assert.notEqual(await digest(write('other', false, 2)), sparse);
});

void test('xattrs are read from POSIX tar headers, binary values as hex', () => {
  const header = (name: string, type: string, size: number) => {
    const h = Buffer.alloc(512);
    h.write(name, 0);
    h.write(size.toString(8).padStart(11, '0'), 124);
    h.write(type, 156);
    return h;
  };
  const record = (text: string) => {
    let length = text.length + 3;
    while (`${length} ${text}\n`.length !== length) length++;
    return `${length} ${text}\n`;
  };
  const pax = Buffer.concat([Buffer.from(record('SCHILY.xattr.trusted.overlay.opaque=y')), Buffer.from(record('SCHILY.xattr.security.capability=\u0001\u0002'))]);
  const padded = Buffer.concat([pax, Buffer.alloc(512 - pax.length)]);
  const tar = Buffer.concat([header('PaxHeaders/d', 'x', pax.length), padded, header('tree/d/', '5', 0), Buffer.alloc(1024)]);
  assert.deepEqual(Object.fromEntries(tarXattrs(tar)), { 'tree/d/': { 'trusted.overlay.opaque': 'y', 'security.capability': '0x0102' } });
});
