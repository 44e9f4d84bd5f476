/**
 * Properties of the layout math over generated inputs (see layout-arbitraries.ts). The example
 * tables in layout.test.ts pin exact placements and messages; these check the rules that must hold
 * for every input, which is where off-by-one-MiB and rest/anchor interactions hide.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { propertyParameters } from '../testing/property.js';
import { LayoutError, MiB, resolveLayout, type LayoutInput } from './layout.js';
import { TiB, tryResolve, layoutInputs, withoutPercents } from './layout-arbitraries.js';

const inputs = layoutInputs(128, 16 * TiB);

/** Index of the rest partition and of the first later one with an explicit start (-1 when none). */
function restAndAnchor(input: LayoutInput): { rest: number; anchor: number } {
  const rest = input.partitions.findIndex((p) => p.size === 'rest');
  const anchor = rest < 0 ? -1 : input.partitions.findIndex((p, i) => i > rest && p.start !== undefined);
  return { rest, anchor };
}

const end = (p: { offset: number; size: number }): number => p.offset + p.size;

void test('layout: every input resolves or raises a LayoutError that names its place', () => {
  fc.assert(
    fc.property(inputs, (input) => {
      try {
        resolveLayout(input);
      } catch (err) {
        assert.ok(err instanceof LayoutError, `not a LayoutError: ${String(err)}`);
        // The recipe validator turns `partition` and `key` into the key path it reports.
        if (err.key === 'disk') assert.equal(err.partition, undefined, err.message);
        else {
          assert.ok(err.key === 'size' || err.key === 'start', err.message);
          const i = err.partition ?? -1;
          assert.ok(i >= 0 && i < input.partitions.length, `partition ${i}: ${err.message}`);
          assert.ok(err.message.includes(`partitions[${i}]`), err.message);
        }
      }
    }),
    propertyParameters(2000),
  );
});

void test('layout: partitions keep their order, are MiB-aligned, never overlap and stay inside the disk', () => {
  fc.assert(
    fc.property(inputs, (input) => {
      const layout = tryResolve(input);
      fc.pre(layout !== undefined);
      if (input.diskSize !== 'auto') assert.equal(layout.diskSize, input.diskSize);
      assert.equal(layout.diskSize % MiB, 0);
      assert.deepEqual(
        layout.partitions.map((p) => p.name),
        input.partitions.map((p) => p.name),
      );
      let previousEnd = MiB; // the primary GPT lives in the first MiB
      layout.partitions.forEach((p, i) => {
        const want = input.partitions[i];
        assert.ok(want);
        assert.equal(p.offset % MiB, 0, `${p.name} offset`);
        assert.equal(p.size % MiB, 0, `${p.name} size`);
        assert.ok(p.size >= MiB, `${p.name} is empty`);
        assert.equal(p.firstLba, p.offset / 512);
        assert.equal(p.lastLba, end(p) / 512 - 1);
        // Gaps only open where the recipe asked for them: in front of an explicit start.
        if (want.start === undefined) assert.equal(p.offset, previousEnd, `${p.name} does not follow on`);
        else assert.equal(p.offset, want.start, `${p.name} moved from its start`);
        assert.ok(p.offset >= previousEnd, `${p.name} overlaps the partition before it`);
        if (want.size !== 'rest' && 'bytes' in want.size) assert.equal(p.size, Math.ceil(want.size.bytes / MiB) * MiB);
        if (want.size !== 'rest' && 'percent' in want.size) {
          assert.equal(p.size, Math.floor((layout.diskSize * want.size.percent) / 100 / MiB) * MiB);
        }
        assert.ok(p.size >= (want.minBytes ?? 0), `${p.name} is smaller than its content`);
        previousEnd = end(p);
      });
      assert.ok(previousEnd <= layout.diskSize - MiB, 'the last partition intrudes on the backup GPT');
    }),
    propertyParameters(1000),
  );
});

void test('layout: rest takes what is left, up to a later explicit start or the disk end', () => {
  fc.assert(
    fc.property(inputs, (input) => {
      const layout = tryResolve(input);
      fc.pre(layout !== undefined);
      const { rest, anchor } = restAndAnchor(input);
      const parts = layout.partitions;
      const last = parts.at(-1);
      assert.ok(last);
      if (rest >= 0 && anchor >= 0) {
        // The rest and the partitions after it are pushed against the anchor: no gap in front of it.
        const beforeAnchor = parts[anchor - 1];
        assert.ok(beforeAnchor);
        assert.equal(end(beforeAnchor), parts[anchor]?.offset, 'free space left in front of an explicit start');
      } else if (rest >= 0 && input.diskSize !== 'auto') {
        assert.equal(end(last), layout.diskSize - MiB, 'free space left on a disk with a rest partition');
      } else if (rest >= 0) {
        const min = input.partitions[rest]?.minBytes ?? 0;
        assert.equal(parts[rest]?.size, Math.max(MiB, Math.ceil(min / MiB) * MiB), 'an auto disk gives the rest its content size');
      }
      // An auto-sized disk ends one MiB (the backup GPT) after its last partition.
      if (input.diskSize === 'auto') assert.equal(layout.diskSize, end(last) + MiB);
    }),
    propertyParameters(1000),
  );
});

void test('layout: a bigger disk never breaks a layout, and only the rest grows with it', () => {
  // Percentages would change with the disk, so they become plain sizes here.
  const grown = fc.tuple(inputs.map(withoutPercents), fc.integer({ min: 1, max: 4096 }));
  fc.assert(
    fc.property(grown, ([input, extra]) => {
      fc.pre(input.diskSize !== 'auto');
      const small = tryResolve(input);
      fc.pre(small !== undefined);
      const big = resolveLayout({ ...input, diskSize: small.diskSize + extra * MiB });
      const { rest, anchor } = restAndAnchor(input);
      const grows = rest >= 0 && anchor < 0;
      small.partitions.forEach((p, i) => {
        const q = big.partitions[i];
        const size = grows && i === rest ? p.size + extra * MiB : p.size;
        const offset = grows && i > rest ? p.offset + extra * MiB : p.offset;
        assert.deepEqual([q?.offset, q?.size], [offset, size], p.name);
      });
    }),
    propertyParameters(1000),
  );
});

void test('layout: an auto disk is the smallest fixed disk that holds the same layout', () => {
  const auto = inputs.map((input) => ({ ...withoutPercents(input), diskSize: 'auto' as const }));
  fc.assert(
    fc.property(auto, (input) => {
      const layout = tryResolve(input);
      fc.pre(layout !== undefined);
      assert.deepEqual(resolveLayout({ ...input, diskSize: layout.diskSize }), layout);
      assert.throws(() => resolveLayout({ ...input, diskSize: layout.diskSize - MiB }), LayoutError);
    }),
    propertyParameters(1000),
  );
});
