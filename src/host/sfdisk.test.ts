import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseSfdisk } from './sfdisk.js';

const golden = (name: string) => readFileSync(new URL(`../../../src/disk/testdata/${name}.sfdisk.json`, import.meta.url), 'utf8');

void test('sfdisk -J of a GPT and of an MBR disk', () => {
  const gpt = parseSfdisk(golden('gpt-3part'));
  assert.equal(gpt.label, 'gpt');
  assert.equal(gpt.sectorsize, 512);
  assert.deepEqual(gpt.partitions[1], { start: 34816, size: 81920, type: '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709', uuid: '01234567-89AB-4CDE-8F01-23456789ABCD', name: 'root' });
  const mbr = parseSfdisk(golden('mbr-3part'));
  assert.deepEqual([mbr.label, mbr.id, mbr.partitions.map((p) => [p.type, p.bootable ?? false])], ['dos', '0x4b494c4e', [['ef', false], ['83', true], ['82', false]]]);
});

void test('a table without partitions, and JSON that is not sfdisk output', () => {
  assert.deepEqual(parseSfdisk('{"partitiontable":{"label":"gpt","id":"X"}}').partitions, []);
  assert.throws(() => parseSfdisk('{"partitiontable":{"label":"gpt"}}', 'disk.img'), /^Error: disk\.img: not the partition table sfdisk -J prints/);
  assert.throws(() => parseSfdisk('sfdisk: cannot open', 'disk.img'), /^Error: disk\.img: not JSON/);
});
