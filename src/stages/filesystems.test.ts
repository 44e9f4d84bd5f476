import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MiB } from '../disk/layout.js';
import { fatGeometry } from './filesystems.js';
import { autoSize } from './partition-table.js';

void test('size: auto leaves a quarter more than the content plus 128 MiB, in whole MiB', () => {
  assert.equal(autoSize(0), 128 * MiB);
  assert.equal(autoSize(400 * MiB), 628 * MiB);
  assert.equal(autoSize(1), 129 * MiB);
});

void test('FAT32 from 64 MiB with at least 65525 clusters; smaller partitions left to mkfs.fat', () => {
  assert.deepEqual(fatGeometry(32 * MiB), []);
  for (const size of [64, 100, 256, 512, 2048].map((m) => m * MiB)) {
    const [, , , spc] = fatGeometry(size);
    assert.ok(size / (512 * Number(spc)) >= 65525, `${size / MiB} MiB gives enough clusters`);
  }
  assert.deepEqual(fatGeometry(256 * MiB), ['-F', '32', '-s', '4']);
});
