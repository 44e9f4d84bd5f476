import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeGpt } from '../disk/gpt.js';
import { MBR_MAX_BYTES, writeMbr } from '../disk/mbr.js';
import { formatBytes, LayoutError, MiB, resolveLayout, type Layout } from '../disk/layout.js';
import { BuildError } from '../errors.js';
import { parseDiskSize, parseSize, startOf } from '../recipe/sizes.js';
import { defineStage } from './define.js';
import { parentMount } from './mount-points.js';
import { treeSize, type TreeSize } from './tree-size.js';

const Partition = z.strictObject({
  name: z.string(),
  size: z.string(),
  start: z.string().optional(),
  fs: z.string().optional(),
  mount: z.string().optional(),
  /** A type GUID on GPT, a type byte in hex on MBR. */
  type: z.string(),
  /** The partition GUID on GPT (lowercase); `<disk id>-<number>` on MBR. */
  partUuid: z.string(),
  bootable: z.boolean(),
});
type Partition = z.infer<typeof Partition>;

/** `size: auto` leaves this much free beyond the content: a quarter more, and at least 128 MiB. */
export function autoSize(contentBytes: number): number {
  return Math.ceil((contentBytes * 1.25 + 128 * MiB) / MiB) * MiB;
}

/** What a file system of this content needs at least: data plus metadata (inodes, journal). */
function needed(fs: string, content: TreeSize): number {
  if (fs === 'vfat') return content.bytes + content.entries * 64 + 2 * MiB;
  // btrfs keeps metadata twice and refuses file systems much under 114 MiB.
  if (fs === 'btrfs') return Math.max(Math.ceil(content.bytes * 1.2 + content.entries * 2048 + 64 * MiB), 120 * MiB);
  // Compressed, so usually smaller than this; the filesystems stage checks the real size.
  if (fs === 'squashfs' || fs === 'erofs') return Math.ceil(content.bytes * 0.25 + content.entries * 128 + MiB);
  return Math.ceil(content.bytes * 1.03 + content.entries * 512 + 32 * MiB);
}

export const partitionTable = defineStage({
  name: 'partition-table',
  version: 4,
  kind: 'image',
  summary: "Sizes the disk from what each partition will hold (`auto` fits the content with headroom), creates the sparse disk image and writes the partition table with kiln's own writers: GPT (protective MBR, both headers and entry arrays) or MBR (four primaries, boot flag), ids derived from the recipe.",
  options: z.strictObject({
    table: z.enum(['gpt', 'mbr']),
    image: z.string(),
    diskSize: z.string(),
    diskId: z.string(),
    partitions: z.array(Partition),
    /** A folder in the stage's files the partitions will be made from instead of the tree (ostree-deploy's sysroot). */
    from: z.string().nullable().default(null),
  }),
  makes: ['layout', 'image'],
  async run(ctx, o) {
    const contents = contentSizes(o.from === null ? ctx.root : join(ctx.work, o.from), o.partitions);
    const layout = place(o, o.partitions.map((p) => (p.fs && contents.has(p.name) ? needed(p.fs, contents.get(p.name) ?? { bytes: 0, entries: 0 }) : MiB)));
    const image = join(ctx.work, o.image);
    const handle = await open(image, 'w');
    await handle.truncate(layout.diskSize).finally(() => handle.close());
    const placed = o.partitions.map((p, i) => {
      const at = layout.partitions[i];
      if (!at) throw new Error(`partition ${p.name} is missing from the layout`);
      return { p, at };
    });
    if (o.table === 'mbr') {
      if (layout.diskSize > MBR_MAX_BYTES) throw new BuildError(`disk layout: the disk is ${formatBytes(layout.diskSize)}, but an MBR addresses at most 2 TiB (use table: gpt)`);
      const diskId = Number.parseInt(o.diskId, 16);
      await writeMbr(image, { diskId, sizeBytes: layout.diskSize, partitions: placed.map(({ p, at }) => ({ type: Number.parseInt(p.type, 16), bootable: p.bootable, firstLba: at.firstLba, lastLba: at.lastLba })) });
    } else {
      await writeGpt(image, {
        diskGuid: o.diskId,
        sizeBytes: layout.diskSize,
        partitions: placed.map(({ p, at }) => ({ name: p.name, typeGuid: p.type, partGuid: p.partUuid.toUpperCase(), firstLba: at.firstLba, lastLba: at.lastLba })),
      });
    }
    for (const [i, p] of o.partitions.entries()) {
      const placed = layout.partitions[i];
      if (placed) ctx.log(`${p.name}: ${formatBytes(placed.size)} at ${formatBytes(placed.offset)}${p.mount ? ` for ${p.mount}` : ''}`);
    }
    ctx.log(`${o.table.toUpperCase()} with ${o.partitions.length} partitions on a ${formatBytes(layout.diskSize)} disk`);
    return { layout, image: o.image };
  },
});

/**
 * What each mounted partition will hold: its folder in the root minus the folders that other
 * partitions mount inside it (the ESP's files are not the root file system's).
 */
function contentSizes(root: string, partitions: Partition[]): Map<string, TreeSize> {
  const mounted = partitions.filter((p) => p.mount !== undefined);
  const sizes = new Map<string, TreeSize>();
  for (const part of mounted) {
    const own = treeSize(join(root, part.mount ?? '/'));
    for (const child of mounted.filter((c) => parentMount(c.mount ?? '', mounted) === part.mount)) {
      const inner = treeSize(join(root, child.mount ?? ''));
      own.bytes -= inner.bytes;
      own.entries -= inner.entries;
    }
    sizes.set(part.name, own);
  }
  return sizes;
}

function place(o: { diskSize: string; partitions: Partition[] }, needs: number[]): Layout {
  const diskSize = parseDiskSize(o.diskSize) ?? 'auto';
  try {
    return resolveLayout({
      diskSize,
      // resolveLayout says by how much any partition is too small for its content.
      partitions: o.partitions.map((p, i) => {
        const size = parseSize(p.size) ?? 'rest';
        const need = needs[i] ?? MiB;
        return { name: p.name, size, minBytes: diskSize === 'auto' && size === 'rest' ? autoSize(need) : need, ...startOf(p.start) };
      }),
    });
  } catch (err) {
    if (err instanceof LayoutError) throw new BuildError(`disk layout: ${err.message} (make it bigger, or use size: rest with disk.size: auto)`);
    throw err;
  }
}
