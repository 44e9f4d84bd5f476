import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { bmapXml } from './bmap.js';

const DIGEST = {
  size: 10 * 4096 + 100,
  sha256: 'f'.repeat(64),
  blockSize: 4096,
  ranges: [
    { first: 0, last: 0, sha256: 'a'.repeat(64) },
    { first: 4, last: 7, sha256: 'b'.repeat(64) },
  ],
};

void test('bmap: sizes, counts and ranges in bmaptool 2.0 form', () => {
  const xml = bmapXml(DIGEST);
  assert.match(xml, /<bmap version="2.0">/);
  assert.match(xml, /<ImageSize> 41060 <\/ImageSize>/);
  assert.match(xml, /<BlocksCount> 11 <\/BlocksCount>/);
  assert.match(xml, /<MappedBlocksCount> 5 <\/MappedBlocksCount>/);
  assert.match(xml, new RegExp(`<Range chksum="${'a'.repeat(64)}"> 0 </Range>`));
  assert.match(xml, new RegExp(`<Range chksum="${'b'.repeat(64)}"> 4-7 </Range>`));
});

void test('bmap: the file checksum is taken with zeros in its place', () => {
  const xml = bmapXml(DIGEST);
  const sum = /<BmapFileChecksum> ([0-9a-f]{64}) <\/BmapFileChecksum>/.exec(xml)?.[1] ?? '';
  assert.equal(createHash('sha256').update(xml.replace(sum, '0'.repeat(64))).digest('hex'), sum);
});
