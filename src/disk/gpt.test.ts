import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, open, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { buildGpt, writeGpt, type GptDisk, type GptPartition } from './gpt.js';
import { GPT_TYPES, decodeGuid } from './guid.js';

const MiB = 1024 * 1024;
const DISK_SIZE = 64 * MiB;
const IMAGE = 'disk.img';

function type(name: string): string {
  const guid = GPT_TYPES[name];
  assert.ok(guid, `unknown type ${name}`);
  return guid;
}

// Fixed GUIDs and LBAs: the golden sfdisk output depends on every one of them.
const DISK: GptDisk = {
  diskGuid: '8F3C6A1E-2B4D-4C5E-9A7B-1D2E3F405162',
  sizeBytes: DISK_SIZE,
  partitions: [
    { name: 'EFI System', typeGuid: type('esp'), partGuid: 'A1B2C3D4-E5F6-4718-8293-A4B5C6D7E8F9', firstLba: 2048, lastLba: 34815 },
    { name: 'root', typeGuid: type('root'), partGuid: '01234567-89AB-4CDE-8F01-23456789ABCD', firstLba: 34816, lastLba: 116735 },
    { name: 'swap', typeGuid: type('swap'), partGuid: 'FEDCBA98-7654-4321-8FED-CBA987654321', firstLba: 116736, lastLba: 129023 },
  ],
};

const GOLDEN = new URL('../../../src/disk/testdata/gpt-3part.sfdisk.json', import.meta.url);

let dir = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-gpt-'));
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs a partitioning tool in the temp dir so the image path in its output is just IMAGE. */
function run(tool: string, args: string[]): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(tool, args, {
    cwd: dir,
    encoding: 'utf8',
    // These tools live in sbin, which is often missing from non-root PATHs.
    env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin`, LC_ALL: 'C' },
  });
  // A missing tool must fail the test: skipping would hide that nothing was verified.
  assert.ifError(r.error);
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

async function freshImage(name: string, disk: GptDisk = DISK): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, '');
  await truncate(file, disk.sizeBytes);
  await writeGpt(file, disk);
  return file;
}

void test('sfdisk reads back exactly the golden table', async () => {
  await freshImage(IMAGE);
  const r = run('sfdisk', ['-J', IMAGE]);
  assert.equal(r.status, 0, r.stderr);
  const golden: unknown = JSON.parse(await readFile(GOLDEN, 'utf8'));
  assert.deepEqual(JSON.parse(r.stdout), golden);
});

void test('sgdisk -v finds no problems', async () => {
  await freshImage(IMAGE);
  const r = run('sgdisk', ['-v', IMAGE]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /No problems found/);
  // sgdisk says "No problems found" even after falling back to the backup table; the complaint
  // that it did so only shows up as cautions and warnings.
  assert.equal(r.stderr, '');
  assert.doesNotMatch(r.stdout, /caution|warning|corrupt|error/i);
});

void test('fdisk -l lists the disk without warnings', async () => {
  await freshImage(IMAGE);
  const r = run('fdisk', ['-l', IMAGE]);
  assert.equal(r.status, 0, r.stderr);
  const bad = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => /warning|corrupt|mismatch/i.test(l));
  assert.deepEqual(bad, []);
  assert.match(r.stdout, /Disklabel type: gpt/);
  assert.match(r.stdout, /Disk identifier: 8F3C6A1E-2B4D-4C5E-9A7B-1D2E3F405162/);
});

void test('sgdisk notices a corrupted primary header CRC', async () => {
  const file = await freshImage('bad-crc.img');
  const fh = await open(file, 'r+');
  try {
    const crc = Buffer.alloc(4);
    await fh.read(crc, 0, 4, 512 + 16);
    crc.writeUInt32LE(crc.readUInt32LE(0) ^ 1, 0);
    await fh.write(crc, 0, 4, 512 + 16);
  } finally {
    await fh.close();
  }
  const r = run('sgdisk', ['-v', 'bad-crc.img']);
  const out = `${r.stdout}\n${r.stderr}`;
  assert.match(out, /Invalid CRC on main header/);
  assert.match(out, /Main header: ERROR/);
  assert.match(out, /Backup header: OK/);
});

void test('sgdisk notices a corrupted partition entry array', async () => {
  const file = await freshImage('bad-entries.img');
  const fh = await open(file, 'r+');
  try {
    // One byte of the first partition's name in the primary entry array.
    await fh.write(Buffer.from('X'), 0, 1, 2 * 512 + 56);
  } finally {
    await fh.close();
  }
  const r = run('sgdisk', ['-v', 'bad-entries.img']);
  assert.match(`${r.stdout}\n${r.stderr}`, /Main partition table: ERROR/);
});

void test('writeGpt keeps the file size and the data between the tables', async () => {
  const file = join(dir, 'keep.img');
  await writeFile(file, '');
  await truncate(file, DISK_SIZE);
  const marker = Buffer.from('partition contents');
  const fh = await open(file, 'r+');
  await fh.write(marker, 0, marker.length, MiB);
  await fh.close();

  await writeGpt(file, DISK);

  assert.equal((await stat(file)).size, DISK_SIZE);
  const data = await readFile(file);
  assert.deepEqual(data.subarray(MiB, MiB + marker.length), marker);
  const image = buildGpt(DISK);
  assert.deepEqual(data.subarray(0, image.head.length), image.head);
  assert.deepEqual(data.subarray(image.tailOffset), image.tail);
});

void test('writeGpt refuses a file whose size differs from the disk', async () => {
  const file = join(dir, 'short.img');
  await writeFile(file, '');
  await truncate(file, DISK_SIZE - MiB);
  await assert.rejects(writeGpt(file, DISK), /is 66060288 bytes but the disk layout is 67108864 bytes/);
  assert.equal((await stat(file)).size, DISK_SIZE - MiB);
});

void test('buildGpt lays out head, tail and CRCs', () => {
  const { head, tail, tailOffset } = buildGpt(DISK);
  const lastLba = DISK_SIZE / 512 - 1;
  assert.equal(head.length, 34 * 512);
  assert.equal(tail.length, 33 * 512);
  assert.equal(tailOffset, (lastLba - 32) * 512);
  assert.equal(tailOffset + tail.length, DISK_SIZE);

  // Protective MBR
  assert.equal(head[446 + 4], 0xee);
  assert.equal(head.readUInt32LE(446 + 8), 1);
  assert.equal(head.readUInt32LE(446 + 12), lastLba);
  assert.equal(head.readUInt16BE(510), 0x55aa);

  const primary = head.subarray(512, 1024);
  const backup = tail.subarray(32 * 512);
  for (const [h, my, alt, entriesLba] of [
    [primary, 1, lastLba, 2],
    [backup, lastLba, 1, lastLba - 32],
  ] as const) {
    assert.equal(h.toString('latin1', 0, 8), 'EFI PART');
    assert.equal(h.readBigUInt64LE(24), BigInt(my));
    assert.equal(h.readBigUInt64LE(32), BigInt(alt));
    assert.equal(h.readBigUInt64LE(40), 34n);
    assert.equal(h.readBigUInt64LE(48), BigInt(lastLba - 33));
    assert.equal(h.readBigUInt64LE(72), BigInt(entriesLba));
    assert.equal(decodeGuid(h.subarray(56, 72)), DISK.diskGuid);
    const copy = Buffer.from(h.subarray(0, 92));
    copy.writeUInt32LE(0, 16);
    assert.equal(h.readUInt32LE(16), crc32(copy));
    assert.equal(h.readUInt32LE(88), crc32(head.subarray(1024)));
  }
  assert.deepEqual(tail.subarray(0, 32 * 512), head.subarray(1024));
});

void test('buildGpt stores names as UTF-16LE and attributes as 64 bits', () => {
  const part: GptPartition = {
    name: 'Ünïcödé ✓',
    typeGuid: type('linux'),
    partGuid: '11111111-2222-4333-8444-555555555555',
    firstLba: 2048,
    lastLba: 4095,
    attributes: (1n << 63n) | 1n,
  };
  const { head } = buildGpt({ ...DISK, partitions: [part] });
  const entry = head.subarray(1024, 1024 + 128);
  assert.equal(entry.toString('utf16le', 56, 56 + part.name.length * 2), part.name);
  assert.equal(entry.readUInt16LE(56 + part.name.length * 2), 0);
  assert.equal(entry.readBigUInt64LE(48), part.attributes);
});

void test('buildGpt validates its input', () => {
  const p = (first: number, last: number, name = 'p'): GptPartition => ({
    name,
    typeGuid: type('linux'),
    partGuid: '11111111-2222-4333-8444-555555555555',
    firstLba: first,
    lastLba: last,
  });
  const lastUsable = DISK_SIZE / 512 - 34;
  const cases: [string, GptDisk, RegExp][] = [
    ['size not a sector multiple', { ...DISK, sizeBytes: DISK_SIZE + 1 }, /not a positive multiple of 512/],
    ['tiny disk', { ...DISK, sizeBytes: 20 * 512, partitions: [] }, /too small/],
    ['before first usable', { ...DISK, partitions: [p(33, 100)] }, /outside the usable range 34\.\./],
    ['after last usable', { ...DISK, partitions: [p(2048, lastUsable + 1)] }, new RegExp(`outside the usable range 34\\.\\.${lastUsable}`)],
    ['first after last', { ...DISK, partitions: [p(4096, 2048)] }, /first LBA 4096 is after last LBA 2048/],
    ['overlap', { ...DISK, partitions: [p(5000, 6000, 'b'), p(2048, 5000, 'a')] }, /partition 1 \("b".*overlaps partition 2 \("a"/],
    ['name too long', { ...DISK, partitions: [p(2048, 4095, 'x'.repeat(37))] }, /37 characters long, the maximum is 36/],
    ['too many', { ...DISK, partitions: Array.from({ length: 129 }, (_, i) => p(2048 + i * 8, 2055 + i * 8)) }, /129 partitions given, at most 128/],
    ['bad disk guid', { ...DISK, diskGuid: 'nope' }, /invalid GUID "nope"/],
    ['bad part guid', { ...DISK, partitions: [{ ...p(2048, 4095), partGuid: 'x' }] }, /invalid GUID "x"/],
    ['zero type', { ...DISK, partitions: [{ ...p(2048, 4095), typeGuid: '00000000-0000-0000-0000-000000000000' }] }, /all zeros/],
    ['huge attributes', { ...DISK, partitions: [{ ...p(2048, 4095), attributes: 1n << 64n }] }, /do not fit in 64 bits/],
  ];
  for (const [what, disk, message] of cases) assert.throws(() => buildGpt(disk), message, what);

  // Edges that must be accepted: full usable range, 36-char names, exactly 128 entries.
  buildGpt({ ...DISK, partitions: [p(34, lastUsable, 'y'.repeat(36))] });
  buildGpt({ ...DISK, partitions: Array.from({ length: 128 }, (_, i) => p(2048 + i * 8, 2055 + i * 8)) });
});
