import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareSnapshots, formatDiff, type FileEntry, type PartitionEntry, type Snapshot } from './compare.js';

const file = (content: string, extra: Partial<FileEntry> = {}): FileEntry => ({ type: 'file', mode: 0o644, uid: 0, gid: 0, size: content.length, mtime: 1700000000, sha256: `sha-${content}`, ...extra });
const dir: FileEntry = { type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 1700000000 };
const root: PartitionEntry = { number: 1, name: 'root', start: 2048, size: 4096, type: 'linux', uuid: 'U1', fs: 'ext4', fsUuid: 'F1', label: 'root', mount: '/' };

function snapshot(over: Partial<Snapshot> = {}): Snapshot {
  return {
    source: 'a.raw',
    table: { label: 'gpt', id: 'DISK', partitions: [root] },
    regions: [
      { name: 'partition table and boot code', sha256: 'h0' },
      { name: 'partition 1 (root)', sha256: 'h1' },
    ],
    packages: [
      { name: 'bash', version: '5.2.15-2+b2', arch: 'amd64' },
      { name: 'zstd', version: '1.5.4', arch: 'amd64' },
    ],
    files: new Map([
      ['/', dir],
      ['/etc', dir],
      ['/etc/motd', file('hello')],
      ['/usr/bin/zstd', file('zstd', { mode: 0o755 })],
    ]),
    unread: [],
    ...over,
  };
}

void test('the same snapshot twice is identical, and says so', () => {
  const d = compareSnapshots(snapshot(), snapshot());
  assert.equal(d.identical, true);
  assert.match(formatDiff(d, ['a', 'b']), /^a and b are identical/);
});

void test('one package and one file apart: added, removed, changed, each named', () => {
  const b = snapshot({
    packages: [
      { name: 'bash', version: '5.2.15-2+b7', arch: 'amd64' },
      { name: 'htop', version: '3.2.2-2', arch: 'amd64' },
    ],
    files: new Map([
      ['/', dir],
      ['/etc', dir],
      ['/etc/motd', file('hello!', { mode: 0o600, mtime: 1700000001 })],
      ['/usr/bin/htop', file('htop', { mode: 0o755 })],
    ]),
    regions: [
      { name: 'partition table and boot code', sha256: 'h0' },
      { name: 'partition 1 (root)', sha256: 'other' },
    ],
  });
  const d = compareSnapshots(snapshot(), b);
  assert.equal(d.identical, false);
  assert.deepEqual(d.packages.added, [{ name: 'htop', version: '3.2.2-2', arch: 'amd64' }]);
  assert.deepEqual(d.packages.removed, [{ name: 'zstd', version: '1.5.4', arch: 'amd64' }]);
  assert.deepEqual(d.packages.changed, [{ name: 'bash', arch: 'amd64', from: '5.2.15-2+b2', to: '5.2.15-2+b7' }]);
  assert.deepEqual(d.files.added, ['/usr/bin/htop']);
  assert.deepEqual(d.files.removed, ['/usr/bin/zstd']);
  assert.deepEqual(d.files.changed, [{ path: '/etc/motd', changes: ['mode 0644 -> 0600', 'size 5 -> 6', 'mtime 2023-11-14T22:13:20.000Z -> 2023-11-14T22:13:21.000Z'] }]);
  assert.deepEqual(d.regions, [
    { name: 'partition table and boot code', same: true },
    { name: 'partition 1 (root)', same: false },
  ]);
  const text = formatDiff(d, ['a', 'b']);
  for (const line of ['packages: 1 added, 1 removed, 1 changed', '  + htop 3.2.2-2 (amd64)', '  - zstd 1.5.4 (amd64)', '  ~ bash 5.2.15-2+b2 -> 5.2.15-2+b7', 'files: 1 added, 1 removed, 1 changed', '  ~ /etc/motd: mode 0644 -> 0600, size 5 -> 6, mtime', '  partition 1 (root): differ']) {
    assert.ok(text.includes(line), `missing ${JSON.stringify(line)} in:\n${text}`);
  }
});

void test('same size, other bytes is a content change; owners and link targets are compared', () => {
  const b = snapshot({
    files: new Map([
      ['/', dir],
      ['/etc', { ...dir, uid: 1000 }],
      ['/etc/motd', file('HELLO')],
      ['/usr/bin/zstd', { type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, mtime: 0, target: 'zstdmt' }],
    ]),
  });
  const changed = Object.fromEntries(compareSnapshots(snapshot(), b).files.changed.map((c) => [c.path, c.changes]));
  assert.deepEqual(changed, { '/etc': ['owner 0:0 -> 1000:0'], '/etc/motd': ['content'], '/usr/bin/zstd': ['type file -> symlink'] });
});

void test('the partition table: a moved partition, another disk id and file-system UUID', () => {
  const b = snapshot({ table: { label: 'gpt', id: 'DISK2', partitions: [{ ...root, start: 4096, fsUuid: 'F2' }] } });
  assert.deepEqual(compareSnapshots(snapshot(), b).partitionTable, ['disk id DISK -> DISK2', 'partition 1 (root): start 2048 -> 4096', 'partition 1 (root): fsUuid F1 -> F2']);
});

void test('bytes that differ with nothing else to show are explained as file-system metadata', () => {
  const b = snapshot({ regions: [{ name: 'partition table and boot code', sha256: 'h0' }, { name: 'partition 1 (root)', sha256: 'other' }] });
  const d = compareSnapshots(snapshot(), b);
  assert.equal(d.identical, false);
  assert.equal(d.notes.length, 1);
  assert.match(d.notes[0] ?? '', /^partition 1 \(root\): the same files, owners, modes, times and contents, but different bytes: the file system's own metadata/);
});

void test('a partition kiln cannot list is compared by its bytes, and the note says so', () => {
  const a = snapshot({ unread: ['root'] });
  const b = snapshot({ unread: ['root'], regions: [{ name: 'partition table and boot code', sha256: 'h0' }, { name: 'partition 1 (root)', sha256: 'other' }] });
  assert.match(compareSnapshots(a, b).notes[0] ?? '', /cannot list the files of this file system/);
});

void test('long lists are cut for people; --json keeps them whole', () => {
  const many = new Map<string, FileEntry>([['/', dir]]);
  for (let i = 0; i < 30; i++) many.set(`/f${String(i).padStart(2, '0')}`, file(String(i)));
  const d = compareSnapshots(snapshot({ files: new Map([['/', dir]]) }), snapshot({ files: many }));
  assert.equal(d.files.added.length, 30);
  assert.match(formatDiff(d, ['a', 'b']), /\.\.\. and 10 more \(--json lists them all\)/);
});
