/**
 * fast-check generators for the disk property tests (layout math and the GPT/MBR writers). Only
 * tests import this file.
 *
 * The layout generator aims at inputs that mostly resolve: explicit starts are placed relative to
 * where the previous partition will end, and a fixed disk is sized from what the partitions need.
 * A steady share still goes wrong in every way a recipe can (two rests, a start that overlaps or is
 * not MiB-aligned, a disk a few MiB short or not a MiB multiple, content larger than its partition,
 * percent sizes on an auto disk or under 1 MiB), so both outcomes get exercised. Sizes are only
 * what `parseSize` can produce (positive bytes, percent in (0, 100]), not arbitrary numbers.
 */
import fc from 'fast-check';
import { LayoutError, MiB, resolveLayout, type Layout, type LayoutInput, type LayoutPartition, type SizeSpec } from './layout.js';

export const TiB = 1024 * 1024 * MiB;

const alignUp = (n: number): number => Math.ceil(n / MiB) * MiB;

/** Sizes in the mix recipes use: mostly whole MiB, some odd byte counts, a few huge, a few percent. */
function sizeSpec(partitions: number): fc.Arbitrary<SizeSpec> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 1, max: 64 }).map((m) => ({ bytes: m * MiB })) },
    { weight: 2, arbitrary: fc.integer({ min: 1, max: 64 * MiB }).map((bytes) => ({ bytes })) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 64 * 1024 }).map((m) => ({ bytes: m * MiB })) },
    // Shares shrink with the partition count, so that many small percentages still fit together.
    { weight: 1, arbitrary: fc.integer({ min: 1, max: Math.ceil(10000 / partitions) }).map((c) => ({ percent: c / 100 })) },
  );
}

/** How far an explicit start lies after the point where the previous partition ends, in bytes. */
const startGap = fc.oneof(
  { weight: 16, arbitrary: fc.integer({ min: 0, max: 64 }).map((m) => m * MiB) },
  { weight: 1, arbitrary: fc.integer({ min: -3, max: -1 }).map((m) => m * MiB) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 2047 }).map((s) => s * 512) },
);

/** What a fixed disk has beyond the estimated need: usually room, sometimes far too much, or a bad size. */
function diskSlack(maxDiskBytes: number): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: 64 }).map((m) => m * MiB) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: Math.floor(maxDiskBytes / MiB) }).map((m) => m * MiB) },
    { weight: 1, arbitrary: fc.integer({ min: -8, max: -1 }).map((m) => m * MiB) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 2047 }).map((s) => s * 512) },
  );
}

interface Draft {
  sizes: SizeSpec[];
  rests: number[];
  starts: [number, number][];
  minBytes: [number, number][];
  /** 'auto', or how much a fixed disk has beyond the estimated need. */
  disk: number | 'auto';
}

function percentBytes(disk: number | 'auto', percent: number): number {
  return disk === 'auto' ? MiB : Math.floor(Math.floor((disk * percent) / 100) / MiB) * MiB;
}

function assemble(d: Draft, maxDiskBytes: number): LayoutInput {
  const rests = new Set(d.rests);
  const gaps = new Map(d.starts);
  const mins = new Map(d.minBytes);
  const partitions: LayoutPartition[] = d.sizes.map((s, i) => ({ name: `p${i}`, size: rests.has(i) ? 'rest' : s }));
  // Content needs are a share (0..110%) of the nominal size, so a few are too big for it.
  partitions.forEach((p, i) => {
    const share = mins.get(i);
    if (share === undefined) return;
    const nominal = p.size === 'rest' ? 64 * MiB : 'bytes' in p.size ? alignUp(p.size.bytes) : MiB;
    p.minBytes = Math.round((nominal * share) / 100);
  });

  let diskSize: number | 'auto' = 'auto';
  if (d.disk !== 'auto') {
    // What the layout needs, with percentages as their share of the disk itself: head and tail MiB,
    // fixed sizes, the rest at its content size, and every gap in front of an explicit start.
    let fixed = 2 * MiB;
    let share = 0;
    partitions.forEach((p, i) => {
      fixed += Math.max(0, gaps.get(i) ?? 0);
      if (p.size === 'rest') fixed += Math.max(MiB, alignUp(p.minBytes ?? 0));
      else if ('bytes' in p.size) fixed += alignUp(p.size.bytes);
      else share += p.size.percent / 100;
    });
    const need = share < 1 ? alignUp(fixed / (1 - share)) : maxDiskBytes;
    diskSize = Math.min(Math.max(need + d.disk, MiB), maxDiskBytes);
  }

  // Starts are absolute, so they are worked out the way the layout first places partitions: the
  // rest at 1 MiB, everything else at its fixed size.
  let cursor = MiB;
  partitions.forEach((p, i) => {
    const gap = gaps.get(i);
    if (gap !== undefined) {
      p.start = cursor + gap;
      cursor = p.start;
    }
    cursor += p.size === 'rest' ? MiB : 'bytes' in p.size ? alignUp(p.size.bytes) : percentBytes(diskSize, p.size.percent);
  });
  return { diskSize, partitions };
}

/**
 * Layout inputs with 1..maxPartitions partitions. Fixed disks stay at or below maxDiskBytes so that
 * the sparse images fit any file system the tests run on.
 */
export function layoutInputs(maxPartitions: number, maxDiskBytes: number): fc.Arbitrary<LayoutInput> {
  return fc.integer({ min: 1, max: maxPartitions }).chain((n) => {
    const index = fc.nat(n - 1);
    const draft: fc.Arbitrary<Draft> = fc.record({
      sizes: fc.array(sizeSpec(n), { minLength: n, maxLength: n }),
      // Mostly one rest, sometimes none, now and then two (which the layout refuses).
      rests: fc.oneof(
        { weight: 6, arbitrary: fc.constant<number[]>([]) },
        { weight: 12, arbitrary: index.map((i) => [i]) },
        // Two distinct indices; a lone partition gets none rather than a generator that never ends.
        { weight: 1, arbitrary: fc.uniqueArray(index, { minLength: Math.min(n, 2), maxLength: 2 }) },
      ),
      // A handful of explicit starts and content sizes, not one per partition: with 128
      // partitions, a per-partition chance of going wrong would leave hardly any valid layout.
      starts: fc.array(fc.tuple(index, startGap), { maxLength: Math.min(n, 6) }),
      minBytes: fc.array(fc.tuple(index, fc.integer({ min: 0, max: 110 })), { maxLength: 3 }),
      disk: fc.oneof({ weight: 1, arbitrary: fc.constant('auto' as const) }, { weight: 6, arbitrary: diskSlack(maxDiskBytes) }),
    });
    return draft.map((d) => assemble(d, maxDiskBytes));
  });
}

/** Percent sizes turned into as many MiB, for properties that compare disks of different sizes. */
export function withoutPercents(input: LayoutInput): LayoutInput {
  return {
    ...input,
    partitions: input.partitions.map((p) => (p.size !== 'rest' && 'percent' in p.size ? { ...p, size: { bytes: Math.ceil(p.size.percent) * MiB } } : p)),
  };
}

/** A GUID from 16 arbitrary bytes (any version and variant bits), in lower or upper case. */
export const guids: fc.Arbitrary<string> = fc.tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.boolean()).map(([b, upper]) => {
  const hex = Buffer.from(b).toString('hex');
  const guid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return upper ? guid.toUpperCase() : guid;
});

/** The layout, or undefined for a LayoutError; anything else thrown fails the property. */
export function tryResolve(input: LayoutInput): Layout | undefined {
  try {
    return resolveLayout(input);
  } catch (err) {
    if (err instanceof LayoutError) return undefined;
    throw err;
  }
}
