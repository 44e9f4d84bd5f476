/**
 * What differs between two builds, from their snapshots (snapshot.ts): packages, the partition
 * table, every file, and the bytes of each disk region. Pure.
 */

export interface FileEntry {
  type: 'file' | 'dir' | 'symlink' | 'other';
  /** Permission bits, e.g. 0o755. */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Whole seconds. */
  mtime: number;
  sha256?: string;
  target?: string;
}

export interface PackageEntry {
  name: string;
  version: string;
  arch: string;
}

export interface PartitionEntry {
  /** 1-based, as in the partition table. */
  number: number;
  name: string;
  start: number;
  size: number;
  type: string;
  uuid: string;
  fs: string;
  fsUuid: string;
  label: string;
  mount: string;
}

export interface Region {
  /** `partition 2 (root)`, `before the first partition`, `after the last partition`. */
  name: string;
  sha256: string;
}

export interface Snapshot {
  source: string;
  table?: { label: string; id: string; partitions: PartitionEntry[] };
  regions: Region[];
  packages: PackageEntry[];
  files: Map<string, FileEntry>;
  /** Partitions whose files could not be listed (e.g. btrfs, swap), so only their bytes are compared. */
  unread: string[];
}

export interface FileChange {
  path: string;
  /** `size 10 -> 12`, `content`, `mode 0644 -> 0755`, ... */
  changes: string[];
}

export interface Diff {
  identical: boolean;
  packages: { added: PackageEntry[]; removed: PackageEntry[]; changed: { name: string; arch: string; from: string; to: string }[] };
  partitionTable: string[];
  files: { added: string[]; removed: string[]; changed: FileChange[] };
  regions: { name: string; same: boolean }[];
  /** A sentence for each region whose bytes differ although nothing above explains it. */
  notes: string[];
}

const key = (p: PackageEntry) => `${p.name}:${p.arch}`;

function comparePackages(a: PackageEntry[], b: PackageEntry[]): Diff['packages'] {
  const before = new Map(a.map((p) => [key(p), p]));
  const after = new Map(b.map((p) => [key(p), p]));
  return {
    added: b.filter((p) => !before.has(key(p))),
    removed: a.filter((p) => !after.has(key(p))),
    changed: b.flatMap((p) => {
      const old = before.get(key(p));
      return old && old.version !== p.version ? [{ name: p.name, arch: p.arch, from: old.version, to: p.version }] : [];
    }),
  };
}

function compareTables(a: Snapshot['table'], b: Snapshot['table']): string[] {
  if (!a || !b) return a === b ? [] : [`partition table: ${a ? a.label : 'none'} -> ${b ? b.label : 'none'}`];
  const out: string[] = [];
  if (a.label !== b.label) out.push(`table type ${a.label} -> ${b.label}`);
  if (a.id !== b.id) out.push(`disk id ${a.id} -> ${b.id}`);
  const count = Math.max(a.partitions.length, b.partitions.length);
  for (let i = 0; i < count; i++) {
    const [pa, pb] = [a.partitions[i], b.partitions[i]];
    if (!pa || !pb) {
      out.push(pa ? `partition ${pa.number} (${pa.name}) removed` : `partition ${pb?.number ?? i + 1} (${pb?.name ?? ''}) added`);
      continue;
    }
    for (const field of ['name', 'start', 'size', 'type', 'uuid', 'fs', 'fsUuid', 'label', 'mount'] as const) {
      if (pa[field] !== pb[field]) out.push(`partition ${pa.number} (${pa.name}): ${field} ${String(pa[field]) || '-'} -> ${String(pb[field]) || '-'}`);
    }
  }
  return out;
}

const octal = (mode: number) => mode.toString(8).padStart(4, '0');

export function compareFile(a: FileEntry, b: FileEntry): string[] {
  const out: string[] = [];
  if (a.type !== b.type) return [`type ${a.type} -> ${b.type}`];
  if (a.mode !== b.mode) out.push(`mode ${octal(a.mode)} -> ${octal(b.mode)}`);
  if (a.uid !== b.uid || a.gid !== b.gid) out.push(`owner ${a.uid}:${a.gid} -> ${b.uid}:${b.gid}`);
  if (a.target !== b.target) out.push(`target ${a.target ?? ''} -> ${b.target ?? ''}`);
  if (a.type === 'file' && a.size !== b.size) out.push(`size ${a.size} -> ${b.size}`);
  else if (a.sha256 !== b.sha256) out.push('content');
  if (a.mtime !== b.mtime) out.push(`mtime ${new Date(a.mtime * 1000).toISOString()} -> ${new Date(b.mtime * 1000).toISOString()}`);
  return out;
}

function compareFiles(a: Map<string, FileEntry>, b: Map<string, FileEntry>): Diff['files'] {
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  const files: Diff['files'] = { added: [], removed: [], changed: [] };
  for (const path of paths) {
    const [fa, fb] = [a.get(path), b.get(path)];
    if (!fa) files.added.push(path);
    else if (!fb) files.removed.push(path);
    else {
      const changes = compareFile(fa, fb);
      if (changes.length) files.changed.push({ path, changes });
    }
  }
  return files;
}

export function compareSnapshots(a: Snapshot, b: Snapshot): Diff {
  const packages = comparePackages(a.packages, b.packages);
  const partitionTable = compareTables(a.table, b.table);
  const files = compareFiles(a.files, b.files);
  const regionsOfB = new Map(b.regions.map((r) => [r.name, r.sha256]));
  const regions = a.regions.filter((r) => regionsOfB.has(r.name)).map((r) => ({ name: r.name, same: regionsOfB.get(r.name) === r.sha256 }));
  const explained = packages.added.length + packages.removed.length + packages.changed.length + partitionTable.length + files.added.length + files.removed.length + files.changed.length > 0;
  const unread = new Set([...a.unread, ...b.unread]);
  const notes = regions
    .filter((r) => !r.same)
    .map((r) =>
      [...unread].some((u) => r.name.includes(`(${u})`))
        ? `${r.name}: its bytes differ; kiln cannot list the files of this file system, so it compared bytes only`
        : explained
          ? `${r.name}: its bytes differ (see the differences above)`
          : `${r.name}: the same files, owners, modes, times and contents, but different bytes: the file system's own metadata differs (creation time, inode order, UUID or hash seed)`,
    );
  const identical = !explained && regions.every((r) => r.same) && a.regions.length === b.regions.length;
  return { identical, packages, partitionTable, files, regions, notes };
}

const LIST = 20;

function listed<T>(items: T[], show: (item: T) => string): string[] {
  const lines = items.slice(0, LIST).map((item) => `  ${show(item)}`);
  if (items.length > LIST) lines.push(`  ... and ${items.length - LIST} more (--json lists them all)`);
  return lines;
}

/** The diff for people: counts first, then the first items of each kind. */
export function formatDiff(d: Diff, names: [string, string]): string {
  if (d.identical) return `${names[0]} and ${names[1]} are identical (${d.regions.length ? 'every partition and every byte of the disk' : 'every package and file'})\n`;
  const p = d.packages;
  const lines = [`packages: ${p.added.length} added, ${p.removed.length} removed, ${p.changed.length} changed`];
  lines.push(...listed(p.added, (x) => `+ ${x.name} ${x.version} (${x.arch})`));
  lines.push(...listed(p.removed, (x) => `- ${x.name} ${x.version} (${x.arch})`));
  lines.push(...listed(p.changed, (x) => `~ ${x.name} ${x.from} -> ${x.to}`));
  lines.push(d.partitionTable.length ? 'partition table:' : 'partition table: the same', ...listed(d.partitionTable, (x) => x));
  const f = d.files;
  lines.push(`files: ${f.added.length} added, ${f.removed.length} removed, ${f.changed.length} changed`);
  lines.push(...listed(f.added, (x) => `+ ${x}`), ...listed(f.removed, (x) => `- ${x}`), ...listed(f.changed, (x) => `~ ${x.path}: ${x.changes.join(', ')}`));
  if (d.regions.length) lines.push('bytes:', ...d.regions.map((r) => `  ${r.name}: ${r.same ? 'the same' : 'differ'}`));
  lines.push(...d.notes);
  return `${lines.join('\n')}\n`;
}
