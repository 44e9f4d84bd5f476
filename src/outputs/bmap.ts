/**
 * The block map bmaptool flashes by (format 2.0): which blocks of a sparse image hold data, with
 * a sha256 per run of blocks, so `bmaptool copy` writes only those and checks what it wrote.
 * Made from the digest kiln already takes of every image, so it costs no second read.
 */
import { createHash } from 'node:crypto';
import type { ImageDigest } from '../host/sparse-hash.js';

const ZERO = '0'.repeat(64);

export function bmapXml(digest: ImageDigest): string {
  const blocks = Math.ceil(digest.size / digest.blockSize);
  const mapped = digest.ranges.reduce((n, r) => n + r.last - r.first + 1, 0);
  const ranges = digest.ranges.map((r) => `    <Range chksum="${r.sha256}"> ${r.first === r.last ? r.first : `${r.first}-${r.last}`} </Range>`);
  const text = [
    '<?xml version="1.0" ?>',
    '<!-- Written by kiln. The blocks that hold data in the image; bmaptool copy writes only these. -->',
    '<bmap version="2.0">',
    `  <ImageSize> ${digest.size} </ImageSize>`,
    `  <BlockSize> ${digest.blockSize} </BlockSize>`,
    `  <BlocksCount> ${blocks} </BlocksCount>`,
    `  <MappedBlocksCount> ${mapped} </MappedBlocksCount>`,
    '  <ChecksumType> sha256 </ChecksumType>',
    // The sha256 of this file as written with 64 zeros in place of the sum itself.
    `  <BmapFileChecksum> ${ZERO} </BmapFileChecksum>`,
    '  <BlockMap>',
    ...ranges,
    '  </BlockMap>',
    '</bmap>',
    '',
  ].join('\n');
  return text.replace(ZERO, createHash('sha256').update(text).digest('hex'));
}
