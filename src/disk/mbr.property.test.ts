/**
 * Round trips of generated layouts through the MBR writer: what `sfdisk -J` reads back must be
 * exactly the starts, sizes, type bytes, boot flags and disk id that were written. mbr.test.ts
 * holds the golden table and the CHS details.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { propertyParameters } from '../testing/property.js';
import { MiB } from './layout.js';
import { TiB, tryResolve, layoutInputs } from './layout-arbitraries.js';
import { MBR_MAX_BYTES, MBR_TYPES, buildMbr, resolveMbrType, writeMbr, type MbrDisk } from './mbr.js';

const IMAGE = 'disk.img';

/** libfdisk aligns to one sector instead of 1 MiB on disks of 4 MiB or less, and sfdisk says so. */
const tinyDiskGrain = (diskSize: number): { grain?: string } => (diskSize <= 4 * MiB ? { grain: '512' } : {});
const dir = mkdtempSync(join(tmpdir(), 'kiln-mbr-property-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function sfdiskJson(): unknown {
  // sbin is often missing from non-root PATHs; a missing sfdisk fails rather than skips.
  const r = spawnSync('sfdisk', ['-J', IMAGE], { cwd: dir, encoding: 'utf8', env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin`, LC_ALL: 'C' } });
  assert.ifError(r.error);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** A type byte the way a recipe may spell it: "0x8e", "8E", "c". */
const byteSpelling = (byte: number): fc.Arbitrary<string> =>
  fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()).map(([prefix, pad, upper]) => {
    const hex = byte.toString(16).padStart(pad ? 2 : 1, '0');
    return `${prefix ? '0x' : ''}${upper ? hex.toUpperCase() : hex}`;
  });

/** Unused entry, extended partitions, GPT protective: bytes under which Linux finds no file system. */
const REFUSED = new Set([0x00, 0x05, 0x0f, 0x85, 0xee]);

void test('mbr: type names resolve to their byte, raw bytes to themselves, and non-primary bytes to nothing', () => {
  const names = fc.constantFrom(...Object.keys(MBR_TYPES)).chain((name) => fc.tuple(fc.constant(MBR_TYPES[name]), fc.mixedCase(fc.constant(name))));
  const bytes = fc.integer({ min: 0, max: 255 }).chain((byte) => fc.tuple(fc.constant(REFUSED.has(byte) ? undefined : byte), byteSpelling(byte)));
  fc.assert(
    fc.property(fc.oneof(names, bytes), ([want, spelling]) => assert.equal(resolveMbrType(spelling), want, spelling)),
    propertyParameters(2000),
  );
});

// Every disk id, boot flag and type byte a recipe may use; disks up to 3 TiB, so some exceed what
// an MBR can address. The partition-table stage checks that limit before it writes, as does buildMbr.
const cases = layoutInputs(4, 3 * TiB).chain((input) =>
  fc.record({
    input: fc.constant(input),
    diskId: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    parts: fc.array(
      fc.record({
        type: fc.oneof(
          fc.mixedCase(fc.constantFrom(...Object.keys(MBR_TYPES))),
          fc.integer({ min: 1, max: 255 }).filter((b) => !REFUSED.has(b)).chain(byteSpelling),
        ),
        bootable: fc.boolean(),
      }),
      { minLength: input.partitions.length, maxLength: input.partitions.length },
    ),
  }),
);

void test('mbr: a resolved layout written as MBR reads back the same in sfdisk', async () => {
  await fc.assert(
    fc.asyncProperty(cases, async ({ input, diskId, parts }) => {
      const layout = tryResolve(input);
      // Inputs the layout refuses are the layout properties' business; here only tables count.
      fc.pre(layout !== undefined);
      const disk: MbrDisk = {
        diskId,
        sizeBytes: layout.diskSize,
        partitions: layout.partitions.map((at, i) => ({
          type: resolveMbrType(parts[i]?.type ?? '') ?? Number.NaN,
          bootable: parts[i]?.bootable ?? false,
          firstLba: at.firstLba,
          lastLba: at.lastLba,
        })),
      };
      if (layout.diskSize > MBR_MAX_BYTES) {
        assert.throws(() => buildMbr(disk), { message: `MBR: the disk is ${layout.diskSize} bytes, but an MBR addresses at most 2 TiB` });
        return;
      }
      const file = join(dir, IMAGE);
      // A fresh sparse file each time, so no table from an earlier case can shine through.
      await writeFile(file, '');
      await truncate(file, layout.diskSize);
      await writeMbr(file, disk);
      assert.deepEqual(sfdiskJson(), {
        partitiontable: {
          label: 'dos',
          id: `0x${diskId.toString(16).padStart(8, '0')}`,
          device: IMAGE,
          unit: 'sectors',
          sectorsize: 512,
          ...tinyDiskGrain(layout.diskSize),
          partitions: disk.partitions.map((p, i) => ({
            node: `${IMAGE}${i + 1}`,
            start: p.firstLba,
            size: p.lastLba - p.firstLba + 1,
            type: p.type.toString(16),
            // sfdisk only mentions the flag when it is set.
            ...(p.bootable ? { bootable: true } : {}),
          })),
        },
      });
    }),
    // Cases dropped by fc.pre do not count; the few disks over 2 TiB stop before sfdisk.
    propertyParameters(250),
  );
});
