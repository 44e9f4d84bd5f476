/**
 * `[[customizations.filesystem]]` and `[customizations.disk]` become kiln's disk: the EFI system
 * partition kiln's bootloaders need first (composer adds its own too), the blueprint's partitions
 * with their minimum sizes, and root last taking the rest. Mount points composer forbids are
 * refused with its reasons; sizes take composer's units (kB/MB/GB are powers of 1000, KiB/MiB/GiB
 * of 1024) and bare byte counts, and become whole MiB.
 */
import type { KeyPath } from '../recipe/source.js';
import type { Table, Translation } from './context.js';
import { parseBlueprintSize, recipeSize, sizeNote } from './sizes.js';
import { pathKey } from './toml-positions.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const ESP = { name: 'esp', type: 'esp', size: '256M', fs: 'vfat', mount: '/boot/efi' };

/** composer's mount point policy (osbuild images, pkg/policies): denied paths and why. */
const DENIED_MOUNTS: Readonly<Record<string, string>> = {
  '/etc': 'must be on the root file system',
  '/sys': 'is an API file system the kernel provides',
  '/proc': 'is an API file system the kernel provides',
  '/dev': 'is an API file system the kernel provides',
  '/run': 'is a tmpfs systemd mounts',
  '/bin': 'is a link into /usr (merged /usr)',
  '/sbin': 'is a link into /usr (merged /usr)',
  '/lib': 'is a link into /usr (merged /usr)',
  '/lib64': 'is a link into /usr (merged /usr)',
  '/lost+found': 'belongs to the ext4 file system it is in',
  '/sysroot': 'is used by systemd and ostree',
  '/var/run': 'is a link to /run',
  '/var/lock': 'is a link to /run/lock',
  '/boot/efi': 'is the EFI system partition, which kiln makes itself (256M, vfat)',
  '/efi': 'is the EFI system partition, which kiln makes itself at /boot/efi',
};

/**
 * Folders a Debian root has (some with their own mode or owner: /tmp, /root, /var/mail): any other
 * mount point is made as a folder (root's, 0755), since kiln sizes and builds each file system from
 * its mount point in the image's tree, and composer makes mount points too.
 */
const DEBIAN_FOLDERS = new Set(['/home', '/srv', '/opt', '/mnt', '/media', '/root', '/tmp', '/usr', '/var', '/var/backups', '/var/cache', '/var/lib', '/var/local', '/var/log', '/var/mail', '/var/opt', '/var/spool', '/var/tmp']);

export function mountProblem(mount: string): string | undefined {
  if (!mount.startsWith('/')) return 'is not an absolute path';
  if (mount !== '/' && (mount.endsWith('/') || mount.includes('//') || mount.split('/').some((p) => p === '.' || p === '..'))) return 'is not a canonical path (no "//", ".", ".." or trailing "/")';
  for (const [denied, why] of Object.entries(DENIED_MOUNTS)) if (mount === denied || mount.startsWith(`${denied}/`)) return `cannot be a mount point: ${denied} ${why}`;
  if (mount.startsWith('/usr/')) return 'cannot be a mount point: only /usr itself can be mounted separately (the initramfs mounts nothing below it)';
  return undefined;
}

interface Part {
  mount?: string;
  fs: string;
  bytes?: number;
  from: KeyPath;
  /** The minsize as the blueprint wrote it, for the comment. */
  raw?: unknown;
  label?: string;
  name?: string;
  type?: string;
  partuuid?: string;
  note?: string;
}

export function translateDisk(t: Translation, c: Table): void {
  const fsPath = ['customizations', 'filesystem'];
  const diskPath = ['customizations', 'disk'];
  if (c.filesystem !== undefined && c.disk !== undefined) {
    t.refuse(diskPath, 'cannot be used with [[customizations.filesystem]] (as in composer): give the partitions in one of them');
    return;
  }
  let table: string | undefined;
  let minBytes: number | undefined;
  let minRaw: unknown;
  const parts: Part[] = [];
  for (const [fs, i] of t.tables(fsPath, c.filesystem, ['mountpoint', 'minsize'])) {
    const from = [...fsPath, i];
    const mount = t.required(from, fs, 'mountpoint');
    const bytes = size(t, [...from, 'minsize'], fs.minsize);
    if (mount !== undefined) parts.push({ mount, fs: 'ext4', bytes, raw: fs.minsize, from, note: 'ext4: a filesystem customization names no file system type' });
  }
  if (c.disk !== undefined) {
    const disk = t.keys(diskPath, c.disk, ['type', 'minsize', 'partitions', 'start_offset', 'sector_size']);
    if (!disk) return;
    const type = t.str([...diskPath, 'type'], disk.type);
    if (type === 'dos' || type === 'gpt') table = type === 'dos' ? 'mbr' : 'gpt';
    else if (type !== undefined) t.refuse([...diskPath, 'type'], `"${type}" is not a partition table type (gpt, dos)`);
    minBytes = size(t, [...diskPath, 'minsize'], disk.minsize);
    minRaw = disk.minsize;
    if (disk.start_offset !== undefined) t.refuse([...diskPath, 'start_offset'], 'kiln starts the first partition at 1 MiB', { lenient: true });
    const sector = t.int([...diskPath, 'sector_size'], disk.sector_size);
    if (sector !== undefined && sector !== 512) t.refuse([...diskPath, 'sector_size'], 'kiln writes disks of 512-byte sectors');
    const known = ['type', 'minsize', 'mountpoint', 'label', 'fs_type', 'part_type', 'part_label', 'part_uuid', 'name', 'logical_volumes', 'subvolumes'];
    for (const [p, i] of t.tables([...diskPath, 'partitions'], disk.partitions, known)) parts.push(...partition(t, [...diskPath, 'partitions', i], p));
  }
  if (!parts.length && table === undefined && minBytes === undefined) return;
  writeDisk(t, parts, table, minBytes, minRaw);
}

function partition(t: Translation, from: KeyPath, p: Table): Part[] {
  const kind = t.str([...from, 'type'], p.type) ?? 'plain';
  if (kind === 'lvm') {
    t.refuse([...from, 'type'], 'kiln writes plain partitions: LVM volume groups need device-mapper, which kiln does not use (give each logical volume as a plain partition)');
    return [];
  }
  if (kind === 'btrfs') {
    t.refuse([...from, 'type'], 'btrfs subvolumes have no kiln key yet (use type = "plain" with fs_type = "btrfs")');
    return [];
  }
  if (kind !== 'plain') {
    t.refuse([...from, 'type'], `"${kind}" is not a partition type (plain, lvm, btrfs)`);
    return [];
  }
  for (const key of ['name', 'logical_volumes', 'subvolumes']) if (p[key] !== undefined) t.refuse([...from, key], 'is for lvm and btrfs partitions, not plain ones');
  if (p.minsize === undefined) t.refuse(from, '"minsize" is required');
  const bytes = size(t, [...from, 'minsize'], p.minsize);
  let fs = t.str([...from, 'fs_type'], p.fs_type);
  let note: string | undefined;
  if (fs === 'xfs') {
    t.refuse([...from, 'fs_type'], `"xfs" is not supported: mkfs.xfs fills a file system only from a prototype file, which drops extended attributes and hard links${t.lenient ? '; ext4 instead' : ' (use ext4)'}`, { lenient: true });
    fs = 'ext4';
    note = 'ext4 instead of the blueprint\'s xfs (--lenient)';
  } else if (fs === undefined) {
    t.refuse(from, '"fs_type" is required (ext4, vfat, btrfs, swap)');
    return [];
  } else if (!['ext4', 'vfat', 'btrfs', 'swap'].includes(fs)) {
    t.refuse([...from, 'fs_type'], `"${fs}" is not a file system kiln makes (ext4, vfat, btrfs, swap)`);
    return [];
  }
  const mount = t.str([...from, 'mountpoint'], p.mountpoint);
  if (fs === 'swap' && mount) t.refuse([...from, 'mountpoint'], 'a swap partition is not mounted: remove mountpoint');
  if (fs !== 'swap' && !mount) t.refuse(from, '"mountpoint" is required');
  const part: Part = { fs, bytes, raw: p.minsize, from, ...(note ? { note } : {}) };
  if (mount && fs !== 'swap') part.mount = mount;
  const label = t.str([...from, 'label'], p.label);
  if (label !== undefined) part.label = label;
  const name = t.str([...from, 'part_label'], p.part_label);
  if (name !== undefined) part.name = name;
  const type = t.str([...from, 'part_type'], p.part_type);
  if (type !== undefined) part.type = type;
  const uuid = t.str([...from, 'part_uuid'], p.part_uuid);
  if (uuid !== undefined) part.partuuid = uuid;
  return [part];
}

function size(t: Translation, path: KeyPath, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const bytes = parseBlueprintSize(value);
  if (typeof bytes === 'string') t.refuse(path, bytes);
  return typeof bytes === 'number' ? bytes : undefined;
}

function writeDisk(t: Translation, parts: Part[], table: string | undefined, minBytes: number | undefined, minRaw: unknown): void {
  const from = ['customizations', parts[0]?.from[1] === 'filesystem' ? 'filesystem' : 'disk'];
  if (table) t.set(['disk', 'table'], table, ['customizations', 'disk', 'type'], table === 'mbr' ? "the blueprint's dos" : undefined);
  const mounts = new Set<string>();
  const names = new Set(['esp']);
  const out: [Part, Table][] = [];
  let root: Part | undefined;
  let fixed = 256 * MiB;
  for (const part of parts) {
    if (part.mount !== undefined) {
      const problem = part.mount === '/boot' ? undefined : mountProblem(part.mount);
      if (problem) {
        t.refuse([...part.from, 'mountpoint'], `"${part.mount}" ${problem}`);
        continue;
      }
      if (mounts.has(part.mount)) {
        t.refuse([...part.from, 'mountpoint'], `"${part.mount}" is mounted twice`);
        continue;
      }
      mounts.add(part.mount);
      if (part.mount === '/boot') {
        t.refuse([...part.from, 'mountpoint'], "kiln's bootloaders read the kernel from the EFI system partition, so a separate /boot has no use", { lenient: true });
        continue;
      }
      if (part.mount === '/') {
        root = part;
        continue;
      }
    }
    const name = uniqueName(part.name ?? (part.fs === 'swap' ? 'swap' : (part.mount ?? 'data').slice(1).replaceAll('/', '-')), names);
    const bytes = Math.ceil((part.bytes ?? GiB) / MiB) * MiB;
    fixed += bytes;
    out.push([part, entry(part, name, part.fs === 'swap' ? 'swap' : 'linux', recipeSize(bytes))]);
  }
  const rootPart: Part = root ?? { mount: '/', fs: 'ext4', from };
  if (rootPart.fs !== 'ext4') t.refuse([...rootPart.from, 'fs_type'], `the root file system must be ext4, not ${rootPart.fs}`);
  const all: [Part | undefined, Table][] = [[undefined, { ...ESP }], ...out, [root, entry(rootPart, rootPart.name ?? 'root', 'root', 'rest')]];
  t.set(['disk', 'partitions'], all.map(([, e]) => e), from, 'the EFI system partition first (kiln boots with UEFI), root last taking the rest');
  all.forEach(([part], i) => {
    if (!part) return;
    t.origins.set(pathKey(['disk', 'partitions', i]), part.from);
    const note = i < all.length - 1 ? sizeNote(part.raw, part.bytes ?? GiB) : undefined;
    if (part.bytes === undefined) t.note(['disk', 'partitions', i, 'size'], 'no minsize in the blueprint: 1G');
    else if (note) t.note(['disk', 'partitions', i, 'size'], note);
    if (part.note) t.note(['disk', 'partitions', i], part.note);
    if (part.mount !== undefined && part.mount !== '/' && !DEBIAN_FOLDERS.has(part.mount)) {
      t.push(['directories'], { path: part.mount }, [...part.from, 'mountpoint'], 'the mount point (Debian has no such folder)');
    }
  });
  // Root takes the rest: the disk is as large as the blueprint's sizes ask, else sized to the content.
  const rootMin = root?.bytes === undefined ? 0 : fixed + root.bytes + 2 * MiB;
  const wanted = Math.max(minBytes ?? 0, rootMin);
  if (!wanted) return;
  const why = rootMin >= (minBytes ?? 0) ? `the partitions with root's minsize (${recipeSize(root?.bytes ?? 0)}) and the partition tables` : sizeNote(minRaw, wanted);
  t.set(['disk', 'size'], recipeSize(wanted), rootMin >= (minBytes ?? 0) ? [...(root?.from ?? from), 'minsize'] : ['customizations', 'disk', 'minsize'], why);
}

function entry(part: Part, name: string, type: string, size: string): Table {
  return {
    name,
    type: part.type ?? type,
    size,
    fs: part.fs,
    ...(part.mount !== undefined ? { mount: part.mount } : {}),
    ...(part.label !== undefined ? { label: part.label } : {}),
    ...(part.partuuid !== undefined ? { partuuid: part.partuuid } : {}),
  };
}

function uniqueName(base: string, taken: Set<string>): string {
  const clean = base.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 30) || 'data';
  let name = clean;
  for (let n = 2; taken.has(name); n++) name = `${clean}${n}`;
  taken.add(name);
  return name;
}
