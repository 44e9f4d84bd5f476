/**
 * sha256 of a disk image without reading its holes. A 2 GiB image holds about 700 MiB of data;
 * reading the rest makes the kernel fill page cache with zeros, which took longer than hashing the
 * whole file (about 4 s of a 15 s rebuild). The file's extent map (FIEMAP, through e2fsprogs'
 * filefrag) says where the data is; holes are hashed from a zero buffer instead.
 */
import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { execa } from 'execa';

const CHUNK = 4 * 1024 * 1024;
const ZEROS = Buffer.alloc(CHUNK);

export interface Extent {
  start: number;
  end: number;
}

/**
 * The data extents (byte ranges, in file order) from `filefrag -e` output, or undefined when the
 * output is not the extent table this parser knows, so the caller reads everything instead.
 */
export function parseExtents(output: string): Extent[] | undefined {
  const blockSize = /\(\d+ blocks? of (\d+) bytes\)/.exec(output)?.[1];
  if (!blockSize || !/ext:\s+logical_offset:/.test(output)) return undefined;
  const extents: Extent[] = [];
  for (const m of output.matchAll(/^\s*\d+:\s+(\d+)\.\.\s*(\d+):/gm)) {
    extents.push({ start: Number(m[1]) * Number(blockSize), end: (Number(m[2]) + 1) * Number(blockSize) });
  }
  return extents.sort((a, b) => a.start - b.start);
}

export async function extentsOf(path: string): Promise<Extent[] | undefined> {
  const result = await execa('filefrag', ['-e', path], { reject: false });
  return result.exitCode === 0 ? parseExtents(result.stdout) : undefined;
}

function hashZeros(hash: Hash, length: number): void {
  for (let left = length; left > 0; left -= CHUNK) hash.update(left >= CHUNK ? ZEROS : ZEROS.subarray(0, left));
}

/** A run of blocks holding data (inclusive block numbers), with the sha256 of its bytes. */
export interface MappedRange {
  first: number;
  last: number;
  sha256: string;
}

export interface ImageDigest {
  size: number;
  sha256: string;
  blockSize: number;
  /** Where the data is: what bmaptool needs to copy, in block units. */
  ranges: MappedRange[];
}

const BLOCK = 4096;

/**
 * One pass over a sparse file: its sha256 and the sha256 of each run of data blocks (the block
 * map bmaptool flashes by). Holes are hashed from a zero buffer, never read.
 */
export async function digestFile(path: string): Promise<ImageDigest> {
  const file = await open(path);
  try {
    const { size, blocks } = await file.stat();
    // Only a file with holes needs its map: filefrag is a process, and most files hashed are whole
    // (each .deb a build caches; starting a process from a big node costs more than the hashing).
    const whole = [{ start: 0, end: size }];
    const extents = mergeBlocks(blocks * 512 < size ? ((await extentsOf(path)) ?? whole) : whole, size);
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(CHUNK);
    const ranges: MappedRange[] = [];
    let at = 0;
    for (const extent of extents) {
      hashZeros(hash, extent.start - at);
      const range = createHash('sha256');
      for (at = extent.start; at < extent.end; ) {
        const { bytesRead } = await file.read(buffer, 0, Math.min(CHUNK, extent.end - at), at);
        if (bytesRead === 0) throw new Error(`${path} ended at ${at} while reading up to ${extent.end}`);
        hash.update(buffer.subarray(0, bytesRead));
        range.update(buffer.subarray(0, bytesRead));
        at += bytesRead;
      }
      ranges.push({ first: extent.start / BLOCK, last: Math.ceil(extent.end / BLOCK) - 1, sha256: range.digest('hex') });
    }
    hashZeros(hash, size - at);
    return { size, sha256: hash.digest('hex'), blockSize: BLOCK, ranges };
  } finally {
    await file.close();
  }
}

/** Extents widened to whole blocks, clipped to the file, joined where they touch. */
function mergeBlocks(extents: Extent[], size: number): Extent[] {
  const out: Extent[] = [];
  for (const e of extents) {
    const start = Math.floor(e.start / BLOCK) * BLOCK;
    const end = Math.min(size, Math.ceil(e.end / BLOCK) * BLOCK);
    if (end <= start) continue;
    const last = out.at(-1);
    if (last && start <= last.end) last.end = Math.max(last.end, end);
    else out.push({ start, end });
  }
  return out;
}

/** The sha256 (hex) of a file; holes are not read when the file system can map its extents. */
export async function sha256File(path: string): Promise<string> {
  return (await digestFile(path)).sha256;
}
