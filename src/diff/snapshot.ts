/**
 * Everything `kiln diff` compares, read from a built image without mounting it: the partition
 * table (sfdisk), a sha256 of every disk region, and the files of each partition, copied out with
 * the file system's own tool (debugfs, mtools, unsquashfs, fsck.erofs) into a temporary folder and
 * listed with owner, mode, size, time and content hash. Partitions are placed at their mount
 * points by the image's /etc/fstab, so paths read as they do on the running system.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { lstat, mkdir, readdir, readlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { readBuildRecord } from '../engine/build-record.js';
import { UserError } from '../errors.js';
import { readSfdisk } from '../host/sfdisk.js';
import { parseStatus } from '../sbom/dpkg.js';
import type { FileEntry, PartitionEntry, Region, Snapshot } from './compare.js';

/** The image or tar a build folder holds (from its build.json), or the file given. */
export function artifactOf(target: string): string {
  if (!existsSync(target)) throw new UserError(`${target}: no such build folder, image or tar`);
  if (!statSync(target).isDirectory()) return target;
  const recordFile = join(target, 'build.json');
  if (!existsSync(recordFile)) throw new UserError(`${target}: not a build folder (it has no build.json)`);
  const record = readBuildRecord(recordFile);
  const pick = record.outputs.find((o) => o.format === 'raw' && o.file.endsWith('.raw')) ?? record.outputs.find((o) => o.format === 'tar');
  if (!pick) throw new UserError(`${target}: this build has no uncompressed raw image or tar to read (add raw or tar to its outputs)`);
  return join(target, pick.file);
}

const isTar = (file: string) => /\.tar(\.(gz|xz|zst))?$/.test(file);

export async function snapshotOf(target: string): Promise<Snapshot> {
  const file = artifactOf(target);
  const temp = mkdtempSync(join(tmpdir(), 'kiln-diff-'));
  try {
    if (isTar(file)) {
      await execa('tar', ['-xpf', file, '--numeric-owner', '-C', temp]);
      const files = await listTree(temp, '/');
      return { source: file, regions: [], packages: packagesIn(temp), files, unread: [] };
    }
    return await snapshotOfImage(file, await asRaw(file, temp), temp);
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

/** A qcow2 (or other qemu-img format) becomes a raw copy first; a raw image is read as it is. */
async function asRaw(file: string, temp: string): Promise<string> {
  const { stdout } = await execa('qemu-img', ['info', '--output=json', file]);
  if ((JSON.parse(stdout) as { format: string }).format === 'raw') return file;
  const raw = join(temp, 'image.raw');
  await execa('qemu-img', ['convert', '-O', 'raw', file, raw]);
  return raw;
}

async function snapshotOfImage(source: string, image: string, temp: string): Promise<Snapshot> {
  const table = readSfdisk(image);
  if (!table) throw new UserError(`${source}: no partition table (kiln diff reads partitioned images, tar files and build folders)`);
  const sector = table.sectorsize ?? 512;
  const partitions: PartitionEntry[] = [];
  const trees = new Map<number, string>();
  const unread: string[] = [];
  for (const [i, p] of table.partitions.entries()) {
    const entry: PartitionEntry = { number: i + 1, name: p.name ?? '', start: p.start, size: p.size, type: p.type, uuid: p.uuid ?? '', fs: '', fsUuid: '', label: '', mount: '' };
    const probe = await execa('blkid', ['-p', '-o', 'export', '-O', String(p.start * sector), '-S', String(p.size * sector), image], { reject: false });
    const tags = Object.fromEntries(probe.stdout.split('\n').map((l) => l.split('=', 2) as [string, string]));
    Object.assign(entry, { fs: tags.TYPE ?? '', fsUuid: tags.UUID ?? '', label: tags.LABEL ?? '' });
    partitions.push(entry);
    const dir = join(temp, `p${entry.number}`);
    if (await extract(image, entry, sector, dir, temp)) trees.set(entry.number, dir);
    else unread.push(entry.name || `partition ${entry.number}`);
  }
  placeByFstab(partitions, trees);
  const files = new Map<string, FileEntry>();
  // Parents first, so a partition's own root folder replaces the empty mount point below it.
  for (const p of [...partitions].sort((a, b) => a.mount.length - b.mount.length)) {
    const dir = trees.get(p.number);
    if (!dir) continue;
    const at = p.mount || `/[${p.name || `partition ${p.number}`}]`;
    const listed = await listTree(dir, at);
    // FAT has no owner, mode or time for its root folder: what was listed is the temporary folder's.
    if (p.fs === 'vfat') listed.set(at, { type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0 });
    for (const [path, f] of listed) files.set(path, f);
  }
  const root = partitions.find((p) => p.mount === '/');
  return {
    source,
    table: { label: table.label, id: table.id, partitions },
    regions: await regionsOf(image, partitions, sector),
    packages: root ? packagesIn(trees.get(root.number) ?? '') : [],
    files,
    unread,
  };
}

/** Copies a partition's files out; false when kiln has no tool that reads this file system. */
async function extract(image: string, p: PartitionEntry, sector: number, dir: string, temp: string): Promise<boolean> {
  const offset = p.start * sector;
  await mkdir(dir, { recursive: true });
  switch (p.fs) {
    case 'ext2':
    case 'ext3':
    case 'ext4': {
      const out = await execa('debugfs', ['-R', `rdump / ${dir}`, `${image}?offset=${offset}`], { reject: false });
      return out.exitCode === 0;
    }
    case 'vfat':
      await execa('mcopy', ['-s', '-p', '-m', '-n', '-Q', '-i', `${image}@@${offset}`, '::/*', dir], { env: { MTOOLS_SKIP_CHECK: '1' }, reject: false });
      return true;
    case 'squashfs':
      rmSync(dir, { recursive: true });
      await execa('unsquashfs', ['-n', '-q', '-o', String(offset), '-d', dir, image]);
      return true;
    case 'erofs': {
      const part = join(temp, `p${p.number}.img`);
      await execa('dd', [`if=${image}`, `of=${part}`, 'bs=512', `skip=${p.start}`, `count=${p.size}`, 'status=none']);
      await execa('fsck.erofs', [`--extract=${dir}`, part]);
      rmSync(part);
      return true;
    }
    default:
      return false;
  }
}

/** Sets each partition's mount point from the /etc/fstab of the partition that has one. */
function placeByFstab(partitions: PartitionEntry[], trees: Map<number, string>): void {
  const root = partitions.find((p) => existsSync(join(trees.get(p.number) ?? '/nonexistent', 'etc/fstab')));
  if (!root) return;
  root.mount = '/';
  const fstab = readFileSync(join(trees.get(root.number) ?? '', 'etc/fstab'), 'utf8');
  for (const line of fstab.split('\n')) {
    const [spec, mount] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (!spec || !mount?.startsWith('/')) continue;
    const [tag, value = ''] = spec.split('=', 2);
    const same = (x: string) => x !== '' && x.toLowerCase() === value.toLowerCase();
    const p = partitions.find((q) => (tag === 'UUID' && same(q.fsUuid)) || (tag === 'PARTUUID' && same(q.uuid)) || (tag === 'LABEL' && same(q.label)) || (tag === 'PARTLABEL' && same(q.name)));
    if (p) p.mount = mount;
  }
}

async function hashRange(image: string, start: number, end: number): Promise<string> {
  const hash = createHash('sha256');
  if (end > start) for await (const chunk of createReadStream(image, { start, end: end - 1, highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The disk cut at partition boundaries: what lies before, between and after partitions, and each partition. */
async function regionsOf(image: string, partitions: PartitionEntry[], sector: number): Promise<Region[]> {
  const size = statSync(image).size;
  const regions: Region[] = [];
  let at = 0;
  for (const p of [...partitions].sort((a, b) => a.start - b.start)) {
    const start = p.start * sector;
    if (start > at) regions.push({ name: at === 0 ? 'partition table and boot code' : `gap before partition ${p.number}`, sha256: await hashRange(image, at, start) });
    regions.push({ name: `partition ${p.number} (${p.name || p.fs || '?'})`, sha256: await hashRange(image, start, start + p.size * sector) });
    at = start + p.size * sector;
  }
  if (size > at) regions.push({ name: 'after the last partition (backup GPT)', sha256: await hashRange(image, at, size) });
  return regions;
}

function packagesIn(root: string): Snapshot['packages'] {
  const status = join(root, 'var/lib/dpkg/status');
  if (!existsSync(status)) return [];
  return parseStatus(readFileSync(status, 'utf8')).map(({ name, version, arch }) => ({ name, version, arch }));
}

/** Every entry under `dir`, keyed by its path below `at`; the folder itself is `at`. */
export async function listTree(dir: string, at: string): Promise<Map<string, FileEntry>> {
  const out = new Map<string, FileEntry>();
  const visit = async (path: string, shown: string): Promise<void> => {
    const st = await lstat(path);
    const entry: FileEntry = { type: 'other', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: st.size, mtime: Math.floor(st.mtimeMs / 1000) };
    if (st.isFile()) Object.assign(entry, { type: 'file', sha256: await hashRange(path, 0, st.size) });
    // debugfs cannot set a link's own time when it copies one out: it is not compared.
    else if (st.isSymbolicLink()) Object.assign(entry, { type: 'symlink', target: await readlink(path), size: 0, mtime: 0 });
    else if (st.isDirectory()) Object.assign(entry, { type: 'dir', size: 0 });
    out.set(shown, entry);
    if (!st.isDirectory()) return;
    for (const name of (await readdir(path)).sort()) await visit(join(path, name), shown === '/' ? `/${name}` : `${shown}/${name}`);
  };
  await visit(dir, at);
  return out;
}
