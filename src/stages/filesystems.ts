import { mkdir, open, rename, rm } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { formatBytes, LayoutError, MiB, resolveLayout, type Layout, type PlacedPartition } from '../disk/layout.js';
import { BuildError } from '../errors.js';
import { parseDiskSize, parseSize } from '../recipe/sizes.js';
import { defineStage, type StageContext } from './define.js';
import { treeSize } from './tree-size.js';

const Partition = z.strictObject({
  name: z.string(),
  size: z.string(),
  fs: z.string().optional(),
  mount: z.string().optional(),
  uuid: z.string(),
  label: z.string().optional(),
});
type Partition = z.infer<typeof Partition>;

/** `size: auto` leaves this much free beyond the content: a quarter more, and at least 128 MiB. */
export function autoSize(contentBytes: number): number {
  return Math.ceil((contentBytes * 1.25 + 128 * MiB) / MiB) * MiB;
}

/** What a file system of this content needs at least: data plus metadata (inodes, journal). */
function needed(fs: string, content: { bytes: number; entries: number }): number {
  if (fs === 'vfat') return content.bytes + content.entries * 64 + 2 * MiB;
  return Math.ceil(content.bytes * 1.03 + content.entries * 512 + 32 * MiB);
}

export const filesystems = defineStage({
  name: 'filesystems',
  version: 1,
  kind: 'image',
  summary: 'Sizes the disk (`auto` fits the content with headroom), creates the sparse disk image and builds each file system straight into it at its partition offset (mkfs.ext4 -d -E offset; mkfs.fat --offset + mtools): no loop devices, no mounts, no copying.',
  options: z.strictObject({ image: z.string(), diskSize: z.string(), partitions: z.array(Partition) }),
  async run(ctx, o) {
    const tree = join(ctx.work, 'tree');
    await rm(tree, { recursive: true, force: true });
    // A hard-link farm: splitting it by mount point moves links, never the cached root's files.
    await ctx.exec('cp', ['-al', ctx.root, tree]);
    const sources = new Map<string, string>();
    const byDepth = o.partitions.filter((p) => p.mount && p.mount !== '/').sort((a, b) => depth(b.mount) - depth(a.mount));
    for (const part of byDepth) {
      const from = join(tree, part.mount ?? '');
      const to = join(ctx.work, `content-${part.name}`);
      await mkdir(from, { recursive: true });
      await rename(from, to);
      await mkdir(from, { mode: 0o755 });
      sources.set(part.name, to);
    }
    const rootPart = o.partitions.find((p) => p.mount === '/');
    if (rootPart) sources.set(rootPart.name, tree);

    const needs = o.partitions.map((p) => (p.fs && sources.has(p.name) ? needed(p.fs, treeSize(sources.get(p.name) ?? tree)) : MiB));
    const layout = place(o, needs);
    const image = join(ctx.work, o.image);
    await rm(image, { force: true });
    const handle = await open(image, 'w');
    await handle.truncate(layout.diskSize).finally(() => handle.close());
    for (const [i, part] of o.partitions.entries()) {
      const placed = layout.partitions[i];
      if (!part.fs || !placed) continue;
      await mkfs(ctx, part, image, placed, sources.get(part.name));
      ctx.log(`${part.name}: ${part.fs} ${formatBytes(placed.size)} at ${formatBytes(placed.offset)}`);
    }
    await rm(tree, { recursive: true, force: true });
    for (const dir of sources.values()) await rm(dir, { recursive: true, force: true });
    return { layout, image };
  },
});

/**
 * FAT32 from 64 MiB up (what UEFI expects of an ESP), with clusters small enough to give the
 * 65525 clusters FAT32 needs; mtools refuses a FAT32 with fewer. Smaller: mkfs.fat picks FAT12/16.
 */
export function fatGeometry(size: number): string[] {
  if (size < 64 * MiB) return [];
  let sectorsPerCluster = 1;
  while (sectorsPerCluster < 8 && size / (512 * sectorsPerCluster * 2) >= 70000) sectorsPerCluster *= 2;
  return ['-F', '32', '-s', String(sectorsPerCluster)];
}

function depth(mount: string | undefined): number {
  return (mount ?? '').split('/').filter(Boolean).length;
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
        return { name: p.name, size, minBytes: diskSize === 'auto' && size === 'rest' ? autoSize(need) : need };
      }),
    });
  } catch (err) {
    if (err instanceof LayoutError) throw new BuildError(`disk layout: ${err.message} (make it bigger, or use size: rest with disk.size: auto)`);
    throw err;
  }
}

async function mkfs(ctx: StageContext, part: Partition, image: string, at: PlacedPartition, source: string | undefined): Promise<void> {
  if (part.fs === 'ext4') {
    await ctx.exec('mkfs.ext4', [
      '-q', '-F',
      '-U', part.uuid,
      ...(part.label ? ['-L', part.label] : []),
      '-E', `root_owner=0:0,hash_seed=${part.uuid},offset=${at.offset},nodiscard`,
      ...(source ? ['-d', source] : []),
      image,
      `${at.size / 1024}k`,
    ]);
  } else if (part.fs === 'vfat') {
    const volumeId = part.uuid.replace('-', '');
    await ctx.exec('mkfs.fat', [
      '--offset', String(at.offset / 512),
      ...fatGeometry(at.size),
      '-i', volumeId,
      '-n', (part.label ?? part.name).toUpperCase().slice(0, 11),
      image,
      String(at.size / 1024),
    ]);
    const entries = source ? readdirSync(source).map((e) => join(source, e)) : [];
    if (entries.length) await ctx.exec('mcopy', ['-s', '-p', '-Q', '-i', `${image}@@${at.offset}`, ...entries, '::/'], { env: { MTOOLS_SKIP_CHECK: '1' } });
  } else {
    throw new BuildError(`partition ${part.name}: file system ${part.fs ?? ''} is not supported`);
  }
}
