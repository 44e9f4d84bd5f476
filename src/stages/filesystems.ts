import { chmod, chown, lstat, mkdir, readdir, readFile, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { z } from 'zod';
import { formatBytes, MiB, type PlacedPartition } from '../disk/layout.js';
import { BuildError } from '../errors.js';
import { mountOverlay, unmountAll } from '../host/overlay.js';
import { SQUASHFS_COMPRESSION } from '../host/squashfs.js';
import { defineStage, sourceDateEpoch, type StageContext } from './define.js';
import { parentMount } from './mount-points.js';

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
  // 6: squashfs at zstd level 6 (src/host/squashfs.ts).
  version: 6,
  kind: 'image',
  summary: 'Builds each file system into the disk image at its partition offset from a read-only view of its part of the root, with no loop device and no copy of the tree: ext4/ext2 (mkfs -d -E offset) and vfat (mkfs.fat --offset + mtools) in place; btrfs (--rootdir), squashfs, erofs and swap as files put in place with dd.',
  options: z.strictObject({
    partitions: z.array(Partition),
    /** A folder in the stage's files to make the partitions from instead of the tree (ostree-deploy's sysroot), removed after. */
    from: z.string().nullable().default(null),
  }),
  async run(ctx, o) {
    const { layout, image: file } = ctx.facts;
    if (!layout || file === undefined) throw new Error('filesystems needs the partition-table stage to run first');
    const image = join(ctx.work, file);
    const epoch = sourceDateEpoch(ctx);
    const root = o.from === null ? ctx.root : join(ctx.work, o.from);
    for (const [i, part] of o.partitions.entries()) {
      const placed = layout.partitions[i];
      if (!part.fs || !placed) continue;
      const source = part.mount === undefined ? undefined : await view(ctx, root, part, o.partitions);
      await mkfs(ctx, part, image, placed, source, epoch);
      ctx.log(`${part.name}: ${part.fs} ${formatBytes(placed.size)} at ${formatBytes(placed.offset)}`);
    }
    // It is in the disk now; kept, every later image stage would copy it along.
    if (o.from !== null) {
      await unmountAll(ctx.exec, ctx.scratch);
      await rm(root, { recursive: true, force: true });
    }
  },
});

/**
 * The folder a partition's file system is made from: its mount point in the root, with the mount
 * points of partitions inside it shown empty. That is an overlayfs view over the root: a top layer
 * holds the empty mount point folders (with the real ones' owner, mode and times) and the layer
 * under it a whiteout for each, which hides the real content below. Nothing is copied or moved.
 */
async function view(ctx: StageContext, root: string, part: Partition, all: Partition[]): Promise<string> {
  const mount = part.mount ?? '/';
  const source = join(root, mount);
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

async function mkfs(ctx: StageContext, part: Partition, image: string, at: PlacedPartition, source: string | undefined, epoch: number | undefined): Promise<void> {
  // mke2fs and debugfs take "now" from E2FSPROGS_FAKE_TIME (the superblock's times, new inodes).
  const fakeTime = epoch === undefined ? {} : { env: { E2FSPROGS_FAKE_TIME: String(epoch) } };
  if (part.fs === 'ext4' || part.fs === 'ext2') {
    // The partition-table stage made the disk a sparse file, so every block already reads as zero:
    // mke2fs need not write zeros over the journal and inode tables (about 30 MiB).
    await ctx.exec(`mkfs.${part.fs}`, [
      '-q', '-F',
      '-U', part.uuid,
      ...(part.label ? ['-L', part.label] : []),
      '-E', `root_owner=0:0,hash_seed=${part.uuid},offset=${at.offset},nodiscard,assume_storage_prezeroed=1`,
      ...(source ? ['-d', source] : []),
      image,
      `${at.size / 1024}k`,
    ], fakeTime);
    if (source && epoch !== undefined) await clampExtTimes(ctx, source, `${image}?offset=${at.offset}`, epoch);
  } else if (part.fs === 'vfat') {
    const volumeId = part.uuid.replace('-', '');
    await ctx.exec('mkfs.fat', [
      // Fixed times for what mkfs.fat writes itself (the volume label's folder entry); -i still sets the id.
      ...(epoch === undefined ? [] : ['--invariant']),
      '--offset', String(at.offset / 512),
      ...fatGeometry(at.size),
      '-i', volumeId,
      '-n', (part.label ?? part.name).toUpperCase().slice(0, 11),
      image,
      String(at.size / 1024),
    ]);
    const from = source && epoch !== undefined ? await clampedCopy(ctx, source, part.name, epoch) : source;
    const entries = from ? readdirSync(from).sort().map((e) => join(from, e)) : [];
    if (entries.length) await ctx.exec('mcopy', ['-s', '-p', '-m', '-Q', '-i', `${image}@@${at.offset}`, ...entries, '::/'], { env: { MTOOLS_SKIP_CHECK: '1' } });
  } else {
    // These tools write only whole files: build the file system alone, then put it in place.
    const file = join(ctx.scratch, `${part.name}.${part.fs ?? 'fs'}`);
    await mkfsFile(ctx, part, file, at.size, source);
    const size = (await stat(file)).size;
    if (size > at.size) {
      throw new BuildError(`partition ${part.name}: the ${part.fs ?? ''} file system is ${formatBytes(size)} but the partition is ${formatBytes(at.size)} (${formatBytes(size - at.size)} too big; make the partition bigger)`);
    }
    // conv=sparse leaves zero blocks unwritten: the disk is a sparse file, they read as zero already.
    await ctx.exec('dd', [`if=${file}`, `of=${image}`, 'bs=1M', `seek=${at.offset / MiB}`, 'conv=notrunc,sparse', 'status=none']);
    await rm(file);
  }
}

/**
 * mke2fs -d copies each file's atime and ctime as the build left them: the moment the build read or
 * made it. debugfs sets every inode's atime and ctime to its mtime, and clamps mtimes newer than
 * SOURCE_DATE_EPOCH to it, in one run over the whole file system (about 2 s for a Debian root).
 */
async function clampExtTimes(ctx: StageContext, source: string, spec: string, epoch: number): Promise<void> {
  const commands: string[] = [];
  let skipped = 0;
  const visit = async (rel: string): Promise<void> => {
    const st = await lstat(join(source, rel));
    // debugfs reads one command a line: a name with a line break in it cannot be written.
    if (rel.includes('\n')) return void skipped++;
    const at = `"/${rel.replace(/"/g, '""')}"`;
    const time = Math.min(Math.floor(st.mtimeMs / 1000), epoch);
    commands.push(`sif ${at} atime @${time}`, `sif ${at} ctime @${time}`);
    if (Math.floor(st.mtimeMs / 1000) !== time) commands.push(`sif ${at} mtime @${time}`);
    if (st.isDirectory()) for (const name of (await readdir(join(source, rel))).sort()) await visit(rel ? `${rel}/${name}` : name);
  };
  await visit('');
  const file = join(ctx.scratch, 'clamp-times.debugfs');
  await writeFile(file, `${commands.join('\n')}\n`);
  // debugfs echoes every command and exits 0 even when one fails: keep quiet, then read its errors.
  const errors = join(ctx.scratch, 'clamp-times.errors');
  await ctx.exec('sh', ['-c', 'debugfs -w -f "$1" "$2" >/dev/null 2>"$3"', 'debugfs', file, spec, errors], { env: { E2FSPROGS_FAKE_TIME: String(epoch) }, label: `debugfs -w -f ${file} ${spec}` });
  const failed = (await readFile(errors, 'utf8')).split('\n').filter((l) => l && !/^debugfs \d/.test(l));
  if (failed.length) throw new BuildError(`debugfs could not set the times of every file: ${failed.slice(0, 3).join('; ')}`, undefined, `debugfs -w -f ${file} ${spec}`);
  if (skipped) ctx.log(`${skipped} names with a line break keep the times the build gave them`);
}

/** A copy of a (small) FAT partition's files with every time clamped to SOURCE_DATE_EPOCH: FAT keeps mtime, creation and access dates. */
async function clampedCopy(ctx: StageContext, source: string, name: string, epoch: number): Promise<string> {
  const copy = join(ctx.scratch, `clamped-${name}`);
  await ctx.exec('cp', ['-a', '--reflink=auto', source, copy]);
  const visit = async (path: string): Promise<void> => {
    const st = await lstat(path);
    if (st.isDirectory()) for (const entry of await readdir(path)) await visit(join(path, entry));
    const time = Math.min(Math.floor(st.mtimeMs / 1000), epoch);
    if (!st.isSymbolicLink()) await utimes(path, time, time);
  };
  await visit(copy);
  return copy;
}

/** btrfs, swap, squashfs and erofs as a file of their own; read-only ones are as small as their content. */
async function mkfsFile(ctx: StageContext, part: Partition, file: string, size: number, source: string | undefined): Promise<void> {
  const label = part.label ?? part.name;
  switch (part.fs) {
    case 'btrfs':
      await writeFile(file, '');
      await truncate(file, size);
      await ctx.exec('mkfs.btrfs', ['-q', '-f', '-U', part.uuid, '-L', label, ...(source ? ['--rootdir', source] : []), file]);
      return;
    case 'swap':
      await writeFile(file, '');
      await truncate(file, size);
      await ctx.exec('mkswap', ['-U', part.uuid, '-L', label, file]);
      return;
    case 'squashfs':
      // Owners and modes as they are in the tree; times as they are (SOURCE_DATE_EPOCH clamps them).
      await ctx.exec('mksquashfs', [source ?? ctx.scratch, file, '-noappend', '-quiet', '-no-progress', ...SQUASHFS_COMPRESSION, '-xattrs']);
      return;
    case 'erofs':
      await ctx.exec('mkfs.erofs', [`-U${part.uuid}`, '-zlz4hc', file, source ?? ctx.scratch]);
      return;
    default:
      throw new BuildError(`partition ${part.name}: file system ${part.fs ?? ''} is not supported`);
  }
}
