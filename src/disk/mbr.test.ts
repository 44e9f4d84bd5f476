import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildMbr, MBR_MAX_BYTES, resolveMbrType, writeMbr, type MbrDisk } from './mbr.js';

const MiB = 1024 * 1024;
const DISK: MbrDisk = {
  diskId: 0x4b494c4e,
  sizeBytes: 64 * MiB,
  partitions: [
    { type: 0xef, bootable: false, firstLba: 2048, lastLba: 34815 },
    { type: 0x83, bootable: true, firstLba: 34816, lastLba: 116735 },
    { type: 0x82, bootable: false, firstLba: 116736, lastLba: 129023 },
  ],
};
const GOLDEN = new URL('../../../src/disk/testdata/mbr-3part.sfdisk.json', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'kiln-mbr-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function tool(command: string, args: string[]) {
  const r = spawnSync(command, args, { cwd: dir, encoding: 'utf8', env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin`, LC_ALL: 'C' } });
  assert.ifError(r.error);
  return r;
}

async function image(): Promise<string> {
  const file = join(dir, 'disk.img');
  writeFileSync(file, '');
  truncateSync(file, DISK.sizeBytes);
  await writeMbr(file, DISK);
  return 'disk.img';
}

void test('sfdisk reads back exactly the golden MBR', async () => {
  const r = tool('sfdisk', ['-J', await image()]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), JSON.parse(readFileSync(GOLDEN, 'utf8')));
});

void test('fdisk -l lists the MBR without warnings', async () => {
  const r = tool('fdisk', ['-l', await image()]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /Disklabel type: dos/);
  assert.match(r.stdout, /Disk identifier: 0x4b494c4e/);
  assert.match(r.stdout, /disk\.img2\s+\*\s+34816\s+116735\s+81920\s+40M 83 Linux/);
});

void test('CHS fields follow the 255/63 geometry, and the maximum past cylinder 1023', () => {
  const sector = buildMbr({ diskId: 1, sizeBytes: 2 ** 40, partitions: [{ type: 0x83, bootable: false, firstLba: 2048, lastLba: 2 ** 31 - 1 }] });
  assert.deepEqual([...sector.subarray(447, 450)], [32, 33, 0]);
  assert.deepEqual([...sector.subarray(451, 454)], [0xfe, 0xff, 0xff]);
});

void test('more than four partitions, a disk over 2 TiB, a partition past the end and a type beyond a byte are refused', () => {
  const part = { type: 0x83, bootable: false, firstLba: 2048, lastLba: 4095 };
  assert.throws(() => buildMbr({ ...DISK, partitions: [part, part, part, part, part] }), /5 partitions, but an MBR holds at most 4 primary partitions/);
  assert.throws(() => buildMbr({ ...DISK, sizeBytes: MBR_MAX_BYTES + MiB }), /addresses at most 2 TiB/);
  assert.throws(() => buildMbr({ ...DISK, partitions: [{ ...part, lastLba: 200000 }] }), /does not fit the disk/);
  assert.throws(() => buildMbr({ ...DISK, partitions: [{ ...part, type: 0x100 }] }), { message: 'MBR: partition 1 has type 256, which is not a type byte (0x01-0xff)' });
});

void test('type names and raw bytes', () => {
  assert.equal(resolveMbrType('esp'), 0xef);
  assert.equal(resolveMbrType('swap'), 0x82);
  assert.equal(resolveMbrType('0x8e'), 0x8e);
  assert.equal(resolveMbrType('fd'), 0xfd);
  assert.equal(resolveMbrType('bios-boot'), undefined);
  assert.equal(resolveMbrType('0x00'), undefined);
  // Extended partitions and GPT protective entries hide the file system from Linux.
  for (const refused of ['5', '0x0f', '85', 'EE']) assert.equal(resolveMbrType(refused), undefined, refused);
});
