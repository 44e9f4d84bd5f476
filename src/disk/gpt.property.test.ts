/**
 * Round trips of generated layouts through the GPT writer and the partitioning tools people will
 * use on the image: what `sfdisk -J` reads back must be exactly what was asked for, and `sgdisk -v`
 * must find nothing to complain about. gpt.test.ts holds the golden single-table checks.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { propertyParameters } from '../testing/property.js';
import { buildGpt, writeGpt, type GptDisk } from './gpt.js';
import { GPT_TYPES, isGuid, resolveGptType } from './guid.js';
import { MiB } from './layout.js';
import { TiB, tryResolve, guids, layoutInputs } from './layout-arbitraries.js';

const IMAGE = 'disk.img';

/** libfdisk aligns to one sector instead of 1 MiB on disks of 4 MiB or less, and sfdisk says so. */
const tinyDiskGrain = (diskSize: number): { grain?: string } => (diskSize <= 4 * MiB ? { grain: '512' } : {});
let dir = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-gpt-property-'));
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function run(tool: string, args: string[]): { stdout: string; stderr: string; status: number | null } {
  // sbin is often missing from non-root PATHs; LC_ALL=C keeps the messages matched below stable.
  const r = spawnSync(tool, args, { cwd: dir, encoding: 'utf8', env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin`, LC_ALL: 'C' } });
  // A missing tool must fail the test: skipping would hide that nothing was verified.
  assert.ifError(r.error);
  return r;
}

const UNUSED_ENTRY = '00000000-0000-0000-0000-000000000000';

/** A type as a recipe spells it: a known name or a raw GUID (not the all-zero one), in any case. */
const typeSpellings = fc.oneof(
  fc.mixedCase(fc.constantFrom(...Object.keys(GPT_TYPES))),
  guids.filter((g) => g !== UNUSED_ENTRY),
);

/**
 * Partition names as the writer takes them: recipe-style names, empty ones and any Unicode text of
 * up to 36 UTF-16 units. NUL is left out: GPT names are NUL-terminated, and the recipe schema only
 * allows [A-Za-z0-9_.-] anyway.
 */
const names = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,35}$/),
  fc.constant(''),
  // 18 code points are at most 36 UTF-16 units, even if every one needs a surrogate pair.
  fc.string({ unit: 'binary', maxLength: 18 }).filter((s) => !s.includes('\0')),
  // Names at the limit, where an off-by-one in the 72-byte name field would show.
  fc.string({ unit: 'grapheme-ascii', minLength: 36, maxLength: 36 }),
  fc.array(fc.integer({ min: 0x10000, max: 0x10ffff }), { minLength: 18, maxLength: 18 }).map((cps) => String.fromCodePoint(...cps)),
);

const cases = layoutInputs(128, 4 * TiB).chain((input) =>
  fc.record({
    input: fc.constant(input),
    diskGuid: guids,
    parts: fc.array(fc.record({ name: names, type: typeSpellings, guid: guids }), {
      minLength: input.partitions.length,
      maxLength: input.partitions.length,
    }),
  }),
);

void test('gpt: every type the resolver accepts is one the writer can write', () => {
  // The all-zero GUID is the one raw GUID with a meaning (an unused entry); 16 random bytes all
  // but never hit it, so it is offered explicitly.
  const spellings = fc.oneof({ weight: 9, arbitrary: typeSpellings }, { weight: 1, arbitrary: fc.constant(UNUSED_ENTRY) });
  fc.assert(
    fc.property(spellings, guids, (spelling, partGuid) => {
      const type = resolveGptType(spelling);
      // The recipe validator reports a type the resolver refuses; one it lets through must not
      // wait until the build to fail in the writer.
      if (type === undefined) return assert.equal(spelling, UNUSED_ENTRY, `${spelling} is refused`);
      assert.ok(isGuid(type) && type === type.toUpperCase(), type);
      buildGpt({ diskGuid: partGuid, sizeBytes: 4 * MiB, partitions: [{ name: 'p', typeGuid: type, partGuid, firstLba: 2048, lastLba: 4095 }] });
    }),
    propertyParameters(500),
  );
});

void test('gpt: a resolved layout written as GPT reads back the same in sfdisk and passes sgdisk -v', async () => {
  await fc.assert(
    fc.asyncProperty(cases, async ({ input, diskGuid, parts }) => {
      const layout = tryResolve(input);
      // Inputs the layout refuses are the layout properties' business; here only tables count.
      fc.pre(layout !== undefined);
      // Every spelling here resolves (the all-zero GUID is the business of the property above).
      const typeGuids = parts.map((p) => resolveGptType(p.type));
      const disk: GptDisk = {
        diskGuid,
        sizeBytes: layout.diskSize,
        partitions: layout.partitions.map((at, i) => ({
          name: parts[i]?.name ?? '',
          typeGuid: typeGuids[i] ?? `unresolved type ${parts[i]?.type}`,
          partGuid: parts[i]?.guid ?? '',
          firstLba: at.firstLba,
          lastLba: at.lastLba,
        })),
      };
      const file = join(dir, IMAGE);
      // A fresh sparse file each time, so no table from an earlier case can shine through.
      await writeFile(file, '');
      await truncate(file, layout.diskSize);
      await writeGpt(file, disk);

      const sfdisk = run('sfdisk', ['-J', IMAGE]);
      assert.equal(sfdisk.status, 0, sfdisk.stderr);
      assert.deepEqual(JSON.parse(sfdisk.stdout), {
        partitiontable: {
          label: 'gpt',
          id: diskGuid.toUpperCase(),
          device: IMAGE,
          unit: 'sectors',
          firstlba: 34,
          lastlba: layout.diskSize / 512 - 34,
          sectorsize: 512,
          ...tinyDiskGrain(layout.diskSize),
          partitions: disk.partitions.map((p, i) => ({
            node: `${IMAGE}${i + 1}`,
            start: p.firstLba,
            size: p.lastLba - p.firstLba + 1,
            type: p.typeGuid.toUpperCase(),
            uuid: p.partGuid.toUpperCase(),
            // sfdisk leaves out the name of an unnamed partition.
            ...(p.name === '' ? {} : { name: p.name }),
          })),
        },
      });

      const sgdisk = run('sgdisk', ['-v', IMAGE]);
      assert.equal(sgdisk.status, 0, sgdisk.stderr);
      assert.match(sgdisk.stdout, /No problems found/);
      // sgdisk says "No problems found" even after falling back to the backup table; only the
      // cautions and warnings tell.
      assert.equal(sgdisk.stderr, '');
      assert.doesNotMatch(sgdisk.stdout, /caution|warning|corrupt|error/i);
    }),
    // Cases dropped by fc.pre do not count, so this many tables reach sfdisk and sgdisk.
    propertyParameters(150),
  );
});
