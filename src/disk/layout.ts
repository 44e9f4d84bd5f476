export type SizeSpec = { bytes: number } | { percent: number } | 'rest';

export interface LayoutPartition {
  name: string;
  size: SizeSpec;
  /** Explicit start in bytes; must be MiB-aligned and at or after the end of the previous partition. */
  start?: number;
  /** How much the content needs: the size of a 'rest' partition on an auto-sized disk. */
  minBytes?: number;
}

export interface LayoutInput {
  diskSize: number | 'auto';
  partitions: LayoutPartition[];
}

export interface PlacedPartition {
  name: string;
  offset: number;
  size: number;
  firstLba: number;
  lastLba: number;
}

export interface Layout {
  diskSize: number;
  partitions: PlacedPartition[];
}

export class LayoutError extends Error {
  constructor(
    message: string,
    /** Index into the input partitions, when one partition is to blame. */
    readonly partition?: number,
    readonly key?: 'size' | 'start' | 'disk',
  ) {
    super(message);
    this.name = 'LayoutError';
  }
}

export const MiB = 1024 * 1024;
/** 1 MiB alignment suits every common erase-block and RAID stripe size. */
export const ALIGN = MiB;
const SECTOR = 512;
const MAX_PARTITIONS = 128;

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

const exactAt2 = (v: number): boolean => Math.abs(Math.round(v * 100) - v * 100) < 1e-6;

/**
 * Human-readable binary size for messages: `512 MiB`, `1.5 GiB`, `300 KiB`. Drops to the next
 * smaller unit when that makes the value exact, so `1026 MiB` is not shown as an ambiguous `1 GiB`.
 */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return `${n} B`;
  const sign = n < 0 ? '-' : '';
  let value = Math.abs(n);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (!exactAt2(value) && unit > 0 && exactAt2(value * 1024)) {
    value *= 1024;
    unit--;
  } else if (Number(value.toFixed(2)) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${sign}${Number(value.toFixed(2))} ${UNITS[unit] ?? 'B'}`;
}

const alignUp = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;
const alignDown = (n: number): number => Math.floor(n / ALIGN) * ALIGN;

function label(parts: LayoutPartition[], i: number): string {
  const name = parts[i]?.name;
  return name ? `partitions[${i}] ("${name}")` : `partitions[${i}]`;
}

function checkInput(input: LayoutInput): void {
  const { diskSize, partitions } = input;
  if (diskSize !== 'auto' && (!Number.isSafeInteger(diskSize) || diskSize <= 0 || diskSize % ALIGN !== 0)) {
    const hint = Number.isFinite(diskSize) && diskSize > 0 ? `; try ${formatBytes(alignUp(diskSize))}` : '';
    throw new LayoutError(
      `disk.size must be a positive multiple of 1 MiB, got ${diskSize} bytes${hint}`,
      undefined,
      'disk',
    );
  }
  if (partitions.length > MAX_PARTITIONS) {
    throw new LayoutError(
      `${partitions.length} partitions given, a GPT disk holds at most ${MAX_PARTITIONS}`,
      undefined,
      'disk',
    );
  }
  const rests = partitions.flatMap((p, i) => (p.size === 'rest' ? [i] : []));
  if (rests.length > 1) {
    throw new LayoutError(
      `only one partition can have size "rest" (partitions[${rests[0]}] and partitions[${rests[1]}] do)`,
      rests[1],
      'size',
    );
  }
  partitions.forEach((p, i) => {
    if (p.minBytes !== undefined && (!Number.isSafeInteger(p.minBytes) || p.minBytes < 0)) {
      throw new LayoutError(`${label(partitions, i)}: minBytes must be a non-negative integer, got ${p.minBytes}`, i, 'size');
    }
    if (p.start !== undefined) {
      if (!Number.isSafeInteger(p.start) || p.start < ALIGN) {
        throw new LayoutError(
          `${label(partitions, i)}: start must be at least 1 MiB (the partition table lives before it), got ${p.start} bytes`,
          i,
          'start',
        );
      }
      if (p.start % ALIGN !== 0) {
        throw new LayoutError(
          `${label(partitions, i)}: start ${p.start} bytes is not a multiple of 1 MiB; try ${formatBytes(alignUp(p.start))}`,
          i,
          'start',
        );
      }
    }
  });
}

/** Fixed size of a non-rest partition, aligned; undefined for 'rest'. */
function fixedSize(input: LayoutInput, i: number): number | undefined {
  const p = input.partitions[i];
  if (!p || p.size === 'rest') return undefined;
  const where = label(input.partitions, i);
  if ('bytes' in p.size) {
    const { bytes } = p.size;
    if (!Number.isSafeInteger(bytes) || bytes <= 0) {
      throw new LayoutError(`${where}: size must be a positive number of bytes, got ${bytes}`, i, 'size');
    }
    return alignUp(bytes);
  }
  const { percent } = p.size;
  if (input.diskSize === 'auto') {
    throw new LayoutError(`${where}: percent sizes need a fixed disk.size`, i, 'size');
  }
  if (!Number.isFinite(percent) || percent <= 0 || percent > 100) {
    throw new LayoutError(`${where}: percent must be greater than 0 and at most 100, got ${percent}`, i, 'size');
  }
  const size = alignDown(Math.floor((input.diskSize * percent) / 100));
  if (size < MiB) {
    throw new LayoutError(
      `${where}: ${percent}% of ${formatBytes(input.diskSize)} is less than 1 MiB`,
      i,
      'size',
    );
  }
  return size;
}

/**
 * Places partitions in order, each at its explicit start or right after the previous one, with the
 * first at 1 MiB (room for the primary GPT) and the last MiB kept free (backup GPT).
 *
 * A 'rest' partition is first placed at 1 MiB to find out how much the others need, then grown:
 * up to the first later partition with an explicit start (which pins everything after it), or
 * else to the reserved tail on a fixed disk, or to its minBytes on an auto-sized disk.
 */
export function resolveLayout(input: LayoutInput): Layout {
  checkInput(input);
  const parts = input.partitions;
  const sizes = parts.map((_, i) => fixedSize(input, i) ?? MiB);
  const restIndex = parts.findIndex((p) => p.size === 'rest');

  const offsets: number[] = [];
  let cursor = MiB;
  parts.forEach((p, i) => {
    if (p.start !== undefined) {
      if (p.start < cursor) {
        const prev = i === 0 ? 'the partition table' : `${label(parts, i - 1)}, which ends at ${formatBytes(cursor)}`;
        throw new LayoutError(`${label(parts, i)}: start ${formatBytes(p.start)} overlaps ${prev}`, i, 'start');
      }
      cursor = p.start;
    }
    offsets.push(cursor);
    cursor += sizes[i] ?? 0;
  });
  // Everything so far had the rest at 1 MiB, so whatever does not fit now never will.
  const packedEnd = cursor;
  let end = cursor;
  let need = end + MiB;

  if (restIndex >= 0) {
    const restMin = Math.max(alignUp(parts[restIndex]?.minBytes ?? 0), MiB);
    const anchor = parts.findIndex((p, i) => i > restIndex && p.start !== undefined);
    let growth: number;
    if (anchor >= 0) {
      // The anchor pins the disk's end, so the rest can only take the gap in front of the anchor;
      // the partitions between them move along and end up packed against the anchor.
      growth = (offsets[anchor] ?? 0) - ((offsets[anchor - 1] ?? 0) + (sizes[anchor - 1] ?? 0));
    } else {
      need += restMin - MiB;
      growth = input.diskSize === 'auto' ? restMin - MiB : Math.max(0, input.diskSize - MiB - end);
      end += growth;
    }
    const stop = anchor >= 0 ? anchor : parts.length;
    for (let i = restIndex + 1; i < stop; i++) offsets[i] = (offsets[i] ?? 0) + growth;
    sizes[restIndex] = MiB + growth;
  }

  const diskSize = input.diskSize === 'auto' ? end + MiB : input.diskSize;
  // A rest that merely falls short of its minBytes is reported below, naming the partition.
  if (packedEnd + MiB > diskSize) {
    throw new LayoutError(
      `partitions need ${formatBytes(need)} but disk.size is ${formatBytes(diskSize)} (${formatBytes(need - diskSize)} too much)`,
      undefined,
      'disk',
    );
  }

  parts.forEach((p, i) => {
    const size = sizes[i] ?? 0;
    const min = p.minBytes ?? 0;
    if (size < min) {
      const got = p.size === 'rest' ? `has size "rest" and gets ${formatBytes(size)}` : `is ${formatBytes(size)}`;
      throw new LayoutError(
        `${label(parts, i)} ${got}, but its contents need ${formatBytes(min)} (${formatBytes(min - size)} missing)`,
        i,
        'size',
      );
    }
  });

  return {
    diskSize,
    partitions: parts.map((p, i) => {
      const offset = offsets[i] ?? 0;
      const size = sizes[i] ?? 0;
      return { name: p.name, offset, size, firstLba: offset / SECTOR, lastLba: (offset + size) / SECTOR - 1 };
    }),
  };
}
