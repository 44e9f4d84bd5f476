import { chmod, chown, lstat, mkdir, utimes } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { z } from 'zod';
import { formatBytes, MiB, type Layout, type PlacedPartition } from '../disk/layout.js';
import { BuildError } from '../errors.js';
import { mountOverlay } from '../engine/overlay.js';
import { defineStage, type StageContext } from './define.js';
import { parentMount } from './partition-table.js';

const Partition = z.strictObject({
  name: z.string(),
  fs: z.string().optional(),
  mount: z.string().optional(),
  uuid: z.string(),
  label: z.string().optional(),
});
type Partition = z.infer<typeof Partition>;

export const filesystems = defineStage({
  name: 'filesystems',
  version: 3,
  kind: 'image',
  summary: 'Builds each file system straight into the disk image at its partition offset (mkfs.ext4 -d -E offset; mkfs.fat --offset + mtools) from a read-only view of its part of the root: no loop devices, no copying of the tree.',
  options: z.strictObject({ partitions: z.array(Partition) }),
  async run(ctx, o) {
    const layout = ctx.facts.layout as Layout | undefined;
    if (!layout || typeof ctx.facts.image !== 'string') throw new Error('filesystems needs the partition-table stage to run first');
    const image = join(ctx.work, ctx.facts.image);
    for (const [i, part] of o.partitions.entries()) {
      const placed = layout.partitions[i];
      if (!part.fs || !placed) continue;
      const source = part.mount === undefined ? undefined : await view(ctx, part, o.partitions);
      await mkfs(ctx, part, image, placed, source);
      ctx.log(`${part.name}: ${part.fs} ${formatBytes(placed.size)} at ${formatBytes(placed.offset)}`);
    }
  },
});

/**
 * The folder a partition's file system is made from: its mount point in the root, with the mount
 * points of partitions inside it shown empty. That is an overlayfs view over the root: a top layer
 * holds the empty mount point folders (with the real ones' owner, mode and times) and the layer
 * under it a whiteout for each, which hides the real content below. Nothing is copied or moved.
 */
async function view(ctx: StageContext, part: Partition, all: Partition[]): Promise<string> {
  const mount = part.mount ?? '/';
  const source = join(ctx.root, mount);
  const inner = all.filter((p) => p.mount !== undefined && parentMount(p.mount, all) === mount).map((p) => relative(mount, p.mount ?? ''));
  if (!inner.length) return source;
  const base = join(ctx.scratch, `view-${part.name}`);
  const [top, hide, target] = ['top', 'hide', 'view'].map((d) => join(base, d)) as [string, string, string];
  await mkdir(target, { recursive: true });
  for (const rel of inner) {
    await copyFolders(source, top, rel);
    await copyFolders(source, hide, dirname(rel));
    await ctx.exec('mknod', [join(hide, rel), 'c', '0', '0']);
  }
  await mountOverlay(ctx.exec, { lowers: [source, hide, top], cwd: ctx.scratch, target });
  return target;
}

/** Makes `rel` and its parents under `to` as folders with the owner, mode and times they have in `from`. */
async function copyFolders(from: string, to: string, rel: string): Promise<void> {
  const parts = rel.split('/').filter(Boolean);
  for (let i = 0; i <= parts.length; i++) {
    const path = parts.slice(0, i).join('/');
    const real = await lstat(join(from, path));
    const made = join(to, path);
    await mkdir(made, { recursive: true });
    await chmod(made, real.mode & 0o7777);
    await chown(made, real.uid, real.gid);
    await utimes(made, real.atime, real.mtime);
  }
}

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

async function mkfs(ctx: StageContext, part: Partition, image: string, at: PlacedPartition, source: string | undefined): Promise<void> {
  if (part.fs === 'ext4') {
    // The partition-table stage made the disk a sparse file, so every block already reads as zero:
    // mke2fs need not write zeros over the journal and inode tables (about 30 MiB).
    await ctx.exec('mkfs.ext4', [
      '-q', '-F',
      '-U', part.uuid,
      ...(part.label ? ['-L', part.label] : []),
      '-E', `root_owner=0:0,hash_seed=${part.uuid},offset=${at.offset},nodiscard,assume_storage_prezeroed=1`,
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
