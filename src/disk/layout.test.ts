import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALIGN, LayoutError, MiB, formatBytes, resolveLayout, type LayoutInput, type LayoutPartition } from './layout.js';

const GiB = 1024 * MiB;
const bytes = (n: number): { bytes: number } => ({ bytes: n });
const percent = (n: number): { percent: number } => ({ percent: n });

/** Expected placement as [name, offset MiB, size MiB] so the tables stay readable. */
type Want = { disk: number; parts: [string, number, number][] };

const ok: [string, LayoutInput, Want][] = [
  [
    'fixed sizes back to back from 1 MiB',
    { diskSize: 64 * MiB, partitions: [{ name: 'esp', size: bytes(16 * MiB) }, { name: 'root', size: bytes(40 * MiB) }] },
    { disk: 64, parts: [['esp', 1, 16], ['root', 17, 40]] },
  ],
  [
    'rest in the middle pushes later partitions to the end',
    {
      diskSize: 64 * MiB,
      partitions: [{ name: 'esp', size: bytes(16 * MiB) }, { name: 'root', size: 'rest' }, { name: 'swap', size: bytes(6 * MiB) }],
    },
    { disk: 64, parts: [['esp', 1, 16], ['root', 17, 40], ['swap', 57, 6]] },
  ],
  [
    'rest first',
    { diskSize: 10 * MiB, partitions: [{ name: 'root', size: 'rest' }, { name: 'swap', size: bytes(2 * MiB) }] },
    { disk: 10, parts: [['root', 1, 6], ['swap', 7, 2]] },
  ],
  [
    'percent of the whole disk, floored to MiB',
    {
      diskSize: 100 * MiB,
      partitions: [{ name: 'a', size: percent(50) }, { name: 'b', size: percent(25.5) }, { name: 'c', size: 'rest' }],
    },
    { disk: 100, parts: [['a', 1, 50], ['b', 51, 25], ['c', 76, 23]] },
  ],
  [
    'percent floors before aligning down',
    { diskSize: 3 * MiB, partitions: [{ name: 'a', size: percent(34) }] },
    { disk: 3, parts: [['a', 1, 1]] },
  ],
  [
    'misaligned sizes are rounded up to MiB',
    { diskSize: 64 * MiB, partitions: [{ name: 'a', size: bytes(1) }, { name: 'b', size: bytes(MiB + 1) }, { name: 'c', size: bytes(3 * MiB) }] },
    { disk: 64, parts: [['a', 1, 1], ['b', 2, 2], ['c', 4, 3]] },
  ],
  [
    'auto disk: rest gets minBytes rounded up, disk ends 1 MiB after the last partition',
    {
      diskSize: 'auto',
      partitions: [
        { name: 'esp', size: bytes(16 * MiB) },
        { name: 'root', size: 'rest', minBytes: 100 * MiB + 1 },
        { name: 'swap', size: bytes(6 * MiB) },
      ],
    },
    { disk: 125, parts: [['esp', 1, 16], ['root', 17, 101], ['swap', 118, 6]] },
  ],
  [
    'auto disk: rest without minBytes gets 1 MiB',
    { diskSize: 'auto', partitions: [{ name: 'root', size: 'rest' }] },
    { disk: 3, parts: [['root', 1, 1]] },
  ],
  ['auto disk without partitions', { diskSize: 'auto', partitions: [] }, { disk: 2, parts: [] }],
  [
    'explicit start leaves a gap',
    { diskSize: 64 * MiB, partitions: [{ name: 'a', size: bytes(MiB) }, { name: 'b', size: bytes(MiB), start: 10 * MiB }, { name: 'c', size: bytes(MiB) }] },
    { disk: 64, parts: [['a', 1, 1], ['b', 10, 1], ['c', 11, 1]] },
  ],
  [
    'explicit start right after the previous partition',
    { diskSize: 8 * MiB, partitions: [{ name: 'a', size: bytes(MiB), start: MiB }, { name: 'b', size: bytes(MiB), start: 2 * MiB }] },
    { disk: 8, parts: [['a', 1, 1], ['b', 2, 1]] },
  ],
  [
    'rest stops at a later explicit start; partitions in between pack against it',
    {
      diskSize: 64 * MiB,
      partitions: [
        { name: 'r', size: 'rest' },
        { name: 'x', size: bytes(MiB) },
        { name: 'b', size: bytes(MiB), start: 20 * MiB },
        { name: 'c', size: bytes(MiB) },
      ],
    },
    { disk: 64, parts: [['r', 1, 18], ['x', 19, 1], ['b', 20, 1], ['c', 21, 1]] },
  ],
  [
    'partitions fill the disk exactly up to the reserved MiB',
    { diskSize: 64 * MiB, partitions: [{ name: 'a', size: bytes(62 * MiB) }] },
    { disk: 64, parts: [['a', 1, 62]] },
  ],
  [
    'tiny disk: one MiB of rest',
    { diskSize: 3 * MiB, partitions: [{ name: 'a', size: 'rest' }] },
    { disk: 3, parts: [['a', 1, 1]] },
  ],
  [
    'fixed partition that meets its minBytes',
    { diskSize: 8 * MiB, partitions: [{ name: 'a', size: bytes(2 * MiB), minBytes: 2 * MiB }] },
    { disk: 8, parts: [['a', 1, 2]] },
  ],
];

for (const [name, input, want] of ok) {
  void test(`layout: ${name}`, () => {
    const layout = resolveLayout(input);
    assert.equal(layout.diskSize, want.disk * MiB);
    assert.deepEqual(
      layout.partitions.map((p) => [p.name, p.offset / MiB, p.size / MiB]),
      want.parts,
    );
    for (const p of layout.partitions) {
      assert.equal(p.offset % ALIGN, 0);
      assert.equal(p.size % ALIGN, 0);
      assert.equal(p.firstLba, p.offset / 512);
      assert.equal(p.lastLba, (p.offset + p.size) / 512 - 1);
      assert.ok(p.offset + p.size <= layout.diskSize - MiB, `${p.name} intrudes on the reserved tail`);
    }
  });
}

const rest = (name: string, extra: Partial<LayoutPartition> = {}): LayoutPartition => ({ name, size: 'rest', ...extra });
const fixed = (name: string, n: number, extra: Partial<LayoutPartition> = {}): LayoutPartition => ({ name, size: bytes(n), ...extra });

/** [case, input, exact message, blamed partition index, key] */
const bad: [string, LayoutInput, string, number | undefined, 'size' | 'start' | 'disk'][] = [
  [
    'two rests',
    { diskSize: 64 * MiB, partitions: [rest('a'), fixed('b', MiB), rest('c')] },
    'only one partition can have size "rest" (partitions[0] and partitions[2] do)',
    2,
    'size',
  ],
  [
    'overflow',
    { diskSize: 64 * MiB, partitions: [fixed('a', 40 * MiB), fixed('b', 30 * MiB)] },
    'partitions need 72 MiB but disk.size is 64 MiB (8 MiB too much)',
    undefined,
    'disk',
  ],
  [
    'overflow counts the rest at its minBytes',
    { diskSize: 64 * MiB, partitions: [fixed('a', 40 * MiB), rest('r', { minBytes: 30 * MiB }), fixed('b', 30 * MiB)] },
    'partitions need 102 MiB but disk.size is 64 MiB (38 MiB too much)',
    undefined,
    'disk',
  ],
  [
    'overflow in GiB',
    { diskSize: GiB, partitions: [fixed('a', GiB)] },
    'partitions need 1026 MiB but disk.size is 1 GiB (2 MiB too much)',
    undefined,
    'disk',
  ],
  [
    'explicit start beyond the disk',
    { diskSize: 64 * MiB, partitions: [fixed('a', MiB, { start: 70 * MiB })] },
    'partitions need 72 MiB but disk.size is 64 MiB (8 MiB too much)',
    undefined,
    'disk',
  ],
  [
    'tiny disk',
    { diskSize: 2 * MiB, partitions: [fixed('a', MiB)] },
    'partitions need 3 MiB but disk.size is 2 MiB (1 MiB too much)',
    undefined,
    'disk',
  ],
  [
    'rest smaller than its content',
    { diskSize: 64 * MiB, partitions: [fixed('a', 40 * MiB), rest('r', { minBytes: 30 * MiB }), fixed('b', 10 * MiB)] },
    'partitions[1] ("r") has size "rest" and gets 12 MiB, but its contents need 30 MiB (18 MiB missing)',
    1,
    'size',
  ],
  [
    'rest squeezed by a later explicit start',
    { diskSize: 64 * MiB, partitions: [rest('r', { minBytes: 30 * MiB }), fixed('b', MiB, { start: 20 * MiB })] },
    'partitions[0] ("r") has size "rest" and gets 19 MiB, but its contents need 30 MiB (11 MiB missing)',
    0,
    'size',
  ],
  [
    'fixed size smaller than its content',
    { diskSize: 64 * MiB, partitions: [fixed('a', 10 * MiB, { minBytes: 20 * MiB + 1 })] },
    'partitions[0] ("a") is 10 MiB, but its contents need 20 MiB (10 MiB missing)',
    0,
    'size',
  ],
  [
    'percent on an auto disk',
    { diskSize: 'auto', partitions: [fixed('a', MiB), { name: 'b', size: percent(50) }] },
    'partitions[1] ("b"): percent sizes need a fixed disk.size',
    1,
    'size',
  ],
  [
    'percent below 1 MiB',
    { diskSize: 64 * MiB, partitions: [{ name: 'a', size: percent(1) }] },
    'partitions[0] ("a"): 1% of 64 MiB is less than 1 MiB',
    0,
    'size',
  ],
  [
    'percent above 100',
    { diskSize: 64 * MiB, partitions: [{ name: 'a', size: percent(101) }] },
    'partitions[0] ("a"): percent must be greater than 0 and at most 100, got 101',
    0,
    'size',
  ],
  [
    'zero bytes',
    { diskSize: 64 * MiB, partitions: [fixed('a', 0)] },
    'partitions[0] ("a"): size must be a positive number of bytes, got 0',
    0,
    'size',
  ],
  [
    'disk size not a MiB multiple',
    { diskSize: 64 * MiB + 512, partitions: [] },
    'disk.size must be a positive multiple of 1 MiB, got 67109376 bytes; try 65 MiB',
    undefined,
    'disk',
  ],
  [
    'zero disk size',
    { diskSize: 0, partitions: [] },
    'disk.size must be a positive multiple of 1 MiB, got 0 bytes',
    undefined,
    'disk',
  ],
  [
    'start below 1 MiB',
    { diskSize: 64 * MiB, partitions: [fixed('a', MiB, { start: 0 })] },
    'partitions[0] ("a"): start must be at least 1 MiB (the partition table lives before it), got 0 bytes',
    0,
    'start',
  ],
  [
    'misaligned start',
    { diskSize: 64 * MiB, partitions: [fixed('a', MiB, { start: MiB + 512 })] },
    'partitions[0] ("a"): start 1049088 bytes is not a multiple of 1 MiB; try 2 MiB',
    0,
    'start',
  ],
  [
    'start overlapping the previous partition',
    { diskSize: 64 * MiB, partitions: [fixed('a', MiB, { start: 10 * MiB }), fixed('b', MiB, { start: 10 * MiB })] },
    'partitions[1] ("b"): start 10 MiB overlaps partitions[0] ("a"), which ends at 11 MiB',
    1,
    'start',
  ],
  [
    'more partitions than a GPT holds',
    { diskSize: 'auto', partitions: Array.from({ length: 129 }, (_, i) => fixed(`p${i}`, MiB)) },
    '129 partitions given, a GPT disk holds at most 128',
    undefined,
    'disk',
  ],
];

for (const [name, input, message, partition, key] of bad) {
  void test(`layout error: ${name}`, () => {
    assert.throws(
      () => resolveLayout(input),
      (err: unknown) => {
        assert.ok(err instanceof LayoutError, `not a LayoutError: ${String(err)}`);
        assert.equal(err.message, message);
        assert.equal(err.partition, partition);
        assert.equal(err.key, key);
        assert.equal(err.name, 'LayoutError');
        return true;
      },
    );
  });
}

void test('formatBytes', () => {
  const cases: [number, string][] = [
    [0, '0 B'],
    [512, '512 B'],
    [1024, '1 KiB'],
    [300 * 1024, '300 KiB'],
    [512 * MiB, '512 MiB'],
    [1.5 * GiB, '1.5 GiB'],
    [1.25 * GiB, '1.25 GiB'],
    [GiB - 1, '1 GiB'],
    [1026 * MiB, '1026 MiB'],
    [1536 * MiB, '1.5 GiB'],
    [1234567, '1.18 MiB'],
    [1000, '1000 B'],
    [1024 * GiB, '1 TiB'],
    [-5 * MiB, '-5 MiB'],
  ];
  for (const [n, want] of cases) assert.equal(formatBytes(n), want, String(n));
});
