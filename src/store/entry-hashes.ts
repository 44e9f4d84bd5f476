/**
 * The content manifest of a store entry: every path under its `tree/` or `files/` with type, mode,
 * owner, mtime, size, symlink target, device numbers (overlayfs whiteouts are 0:0 character
 * devices), the xattrs of non-regular paths (overlayfs' `trusted.overlay.opaque` lives on
 * folders) and the sha256 of each regular file. It is recorded when the entry is committed and
 * compared with the entry as it is by `kiln cache verify`: a layer or image that changed after it
 * was stored would silently change every image built on it.
 *
 * Recording and checking are the same walk, so they cannot disagree about what they look at.
 */
import { createHash } from 'node:crypto';
import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, type BigIntStats } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { z } from 'zod';
import { extentsOf } from '../host/sparse-hash.js';

export const PathRecord = z.strictObject({
  /** Relative to the entry folder, starting with `tree` or `files`. */
  path: z.string(),
  type: z.enum(['file', 'dir', 'symlink', 'char', 'block', 'fifo', 'socket']),
  /** Permission bits with setuid, setgid and sticky, in octal. */
  mode: z.string().regex(/^[0-7]{4}$/),
  uid: z.number().int(),
  gid: z.number().int(),
  /** Nanoseconds since the epoch: mkfs.ext4 -d and tar copy it into the image. */
  mtime: z.string().regex(/^-?\d+$/),
  size: z.number().int().optional(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  /** Instead of sha256 for a sparse file (a disk image): see dataSha256. */
  dataSha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  target: z.string().optional(),
  /** `major:minor` of a device; a whiteout is `0:0`. */
  rdev: z.string().optional(),
  xattrs: z.record(z.string(), z.string()).optional(),
});
export type PathRecord = z.infer<typeof PathRecord>;

/** Small files are read at once, synchronously (most of a root); bigger ones in chunks, or by extent when sparse. */
const SMALL = 256 * 1024;
const CHUNK = 4 * 1024 * 1024;
/** Reads in flight: enough to keep the disk busy while the one core hashes. */
const PARALLEL = 4;
/** overlayfs' bookkeeping (which lower inode a copy came from): not content, and not stable across copies. */
const IGNORED_XATTRS = new Set(['trusted.overlay.origin', 'trusted.overlay.impure']);

/** Walks `<entry>/<top>` (top is `tree` or `files`) and hashes every regular file. */
export async function recordEntry(entry: string, top: string): Promise<PathRecord[]> {
  const records: PathRecord[] = [];
  // Synchronous: a root has ~13,000 paths, and a thread-pool round trip per lstat costs more than the lstat.
  const walk = (rel: string): void => {
    const abs = join(entry, rel);
    const record = describe(rel, lstatSync(abs, { bigint: true }));
    records.push(record);
    if (record.type === 'symlink') record.target = readlinkSync(abs);
    if (record.type !== 'dir') return;
    // Code-unit order, not locale order: the same on every machine.
    const names = readdirSync(abs).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const name of names) walk(`${rel}/${name}`);
  };
  walk(top);
  await hashFiles(entry, records.filter((r) => r.type === 'file'));
  await readXattrs(entry, records.filter((r) => r.type !== 'file' && r.type !== 'socket'));
  return records;
}

function describe(path: string, st: BigIntStats): PathRecord {
  const base = { path, mode: (st.mode & 0o7777n).toString(8).padStart(4, '0'), uid: Number(st.uid), gid: Number(st.gid), mtime: st.mtimeNs.toString() };
  if (st.isFile()) return { ...base, type: 'file', size: Number(st.size) };
  if (st.isDirectory()) return { ...base, type: 'dir' };
  if (st.isSymbolicLink()) return { ...base, type: 'symlink' };
  if (st.isCharacterDevice() || st.isBlockDevice()) return { ...base, type: st.isCharacterDevice() ? 'char' : 'block', rdev: deviceNumbers(st.rdev) };
  return { ...base, type: st.isFIFO() ? 'fifo' : 'socket' };
}

/** Linux's dev_t layout (glibc's gnu_dev_major/minor). */
function deviceNumbers(rdev: bigint): string {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

async function hashFiles(entry: string, files: PathRecord[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < files.length; i = next++) {
      const file = files[i];
      if (file) Object.assign(file, await hashFile(join(entry, file.path), file.size ?? 0));
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
}

async function hashFile(path: string, size: number): Promise<{ sha256: string } | { dataSha256: string }> {
  if (size <= SMALL) return { sha256: hashSmall(path) };
  const handle = await open(path);
  try {
    const { blocks } = await handle.stat();
    if (blocks * 512 < size) return { dataSha256: await dataSha256(handle, path, size) };
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(CHUNK);
    for (let at = 0; ; ) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, at);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      at += bytesRead;
    }
    return { sha256: hash.digest('hex') };
  } finally {
    await handle.close();
  }
}

/** One buffer for every small file: most of a root's 13,000 files, so no garbage per file. */
const SMALL_BUFFER = Buffer.allocUnsafe(SMALL + 1);

function hashSmall(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const hash = createHash('sha256');
    for (let n = readSync(fd, SMALL_BUFFER); n > 0; n = readSync(fd, SMALL_BUFFER)) hash.update(SMALL_BUFFER.subarray(0, n));
    return hash.digest('hex');
  } finally {
    closeSync(fd);
  }
}

const BLOCK = 4096;
const ZERO_BLOCK = Buffer.alloc(BLOCK);

/**
 * The sha256 of a sparse file's non-zero 4 KiB blocks: each run of them, followed by its offset
 * and length (so the framing is unambiguous), then the file size. It depends only on the
 * content, not on where the holes happen to be, and holes are neither read nor hashed: a 1.3 GB
 * image that holds 600 MB costs 600 MB of hashing, and a freshly partitioned one almost none.
 */
export async function dataSha256(handle: Awaited<ReturnType<typeof open>>, path: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(CHUNK);
  let run: { start: number; blocks: number } | undefined;
  const endRun = () => {
    if (!run) return;
    hash.update(u64(run.start)).update(u64(run.blocks));
    run = undefined;
  };
  let done = 0;
  for (const extent of (await extentsOf(path)) ?? [{ start: 0, end: size }]) {
    const end = Math.min(size, Math.ceil(extent.end / BLOCK) * BLOCK);
    // Widened to whole blocks, extents may touch: no block is hashed twice.
    for (let at = Math.max(done, Math.floor(extent.start / BLOCK) * BLOCK); at < end; done = at) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(CHUNK, end - at), at);
      if (bytesRead === 0) break;
      for (let offset = 0; offset < bytesRead; offset += BLOCK) {
        const block = buffer.subarray(offset, Math.min(offset + BLOCK, bytesRead));
        if (block.equals(ZERO_BLOCK.subarray(0, block.length))) {
          endRun();
          continue;
        }
        if (run && run.start + run.blocks * BLOCK !== at + offset) endRun();
        run ??= { start: at + offset, blocks: 0 };
        run.blocks++;
        hash.update(block);
      }
      at += bytesRead;
    }
  }
  endRun();
  return hash.update(u64(size)).digest('hex');
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/**
 * Node cannot read xattrs, and getfattr is not a host tool kiln needs; GNU tar (which it needs)
 * can. Only headers are archived (folders, links, devices: no content), so this is one process
 * writing a few bytes per path. Regular files' xattrs (file capabilities) are not recorded: tar
 * would read their content a second time.
 */
async function readXattrs(entry: string, paths: PathRecord[]): Promise<void> {
  if (!paths.length) return;
  const byPath = new Map(paths.map((r) => [r.path, r]));
  const args = ['--create', '--format=posix', '--xattrs', '--xattrs-include=*', '--file=-', '--directory', entry, '--no-recursion', '--null', '--files-from=-'];
  const result = await execa('tar', args, { input: paths.map((r) => r.path).join('\0'), encoding: 'buffer', reject: false, stripFinalNewline: false, maxBuffer: 1024 * 1024 * 1024 });
  if (result.exitCode !== 0) throw new Error(`reading the xattrs of ${entry}: tar exited with status ${result.exitCode ?? '?'}: ${Buffer.from(result.stderr).toString().trim()}`);
  for (const [path, xattrs] of tarXattrs(Buffer.from(result.stdout))) {
    const record = byPath.get(path.replace(/\/$/, ''));
    const kept = Object.entries(xattrs).filter(([name]) => !IGNORED_XATTRS.has(name));
    if (record && kept.length) record.xattrs = Object.fromEntries(kept.sort(([a], [b]) => (a < b ? -1 : 1)));
  }
}

/** Path → xattrs (printable values as text, others as 0x-hex) from a POSIX tar stream. */
export function tarXattrs(tar: Buffer): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  let pax: Record<string, Buffer> = {};
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const size = parseInt(field(header, 124, 12) || '0', 8);
    const type = String.fromCharCode(header[156] ?? 0);
    const body = tar.subarray(at + 512, at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      pax = paxRecords(body);
      continue;
    }
    const prefix = field(header, 345, 155);
    const name = pax.path?.toString() ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    const xattrs: Record<string, string> = {};
    for (const [key, value] of Object.entries(pax)) if (key.startsWith('SCHILY.xattr.')) xattrs[key.slice(13)] = showValue(value);
    if (Object.keys(xattrs).length) out.set(name, xattrs);
    pax = {};
  }
  return out;
}

function field(header: Buffer, offset: number, length: number): string {
  const raw = header.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? length : end).toString().trim();
}

/** `LEN key=value\n` records; values may hold any byte, so they are cut by length, not by newline. */
function paxRecords(body: Buffer): Record<string, Buffer> {
  const records: Record<string, Buffer> = {};
  for (let at = 0; at < body.length; ) {
    const space = body.indexOf(0x20, at);
    const length = Number(body.subarray(at, space).toString());
    if (space < 0 || !length) break;
    const record = body.subarray(space + 1, at + length - 1);
    const equals = record.indexOf(0x3d);
    records[record.subarray(0, equals).toString()] = record.subarray(equals + 1);
    at += length;
  }
  return records;
}

function showValue(value: Buffer): string {
  return value.every((b) => b >= 0x20 && b < 0x7f) ? value.toString('latin1') : `0x${value.toString('hex')}`;
}

/** One JSON record per line, in walk order: diffable, and streamable for big trees. */
export function contentsText(records: readonly PathRecord[]): string {
  return records.map((r) => `${JSON.stringify(r)}\n`).join('');
}

export function parseContents(text: string): PathRecord[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line, i) => {
      const parsed = PathRecord.safeParse(JSON.parse(line));
      if (!parsed.success) throw new Error(`line ${i + 1}: ${parsed.error.issues.map((e) => `${e.path.join('.')}: ${e.message}`).join('; ')}`);
      return parsed.data;
    });
}

export interface Difference {
  path: string;
  message: string;
}

const FIELDS = ['type', 'mode', 'uid', 'gid', 'mtime', 'size', 'sha256', 'dataSha256', 'target', 'rdev'] as const;

/** What differs between the recorded manifest and the entry as it is now, by path. */
export function compareContents(recorded: readonly PathRecord[], actual: readonly PathRecord[]): Difference[] {
  const now = new Map(actual.map((r) => [r.path, r]));
  const was = new Set(recorded.map((r) => r.path));
  const out: Difference[] = [];
  for (const r of recorded) {
    const a = now.get(r.path);
    if (!a) {
      out.push({ path: r.path, message: `${r.type} is missing` });
      continue;
    }
    const changed = FIELDS.filter((f) => r[f] !== a[f]).map((f) => `${f} ${show(r[f])} is now ${show(a[f])}`);
    if (JSON.stringify(r.xattrs ?? {}) !== JSON.stringify(a.xattrs ?? {})) changed.push(`xattrs ${JSON.stringify(r.xattrs ?? {})} are now ${JSON.stringify(a.xattrs ?? {})}`);
    if (changed.length) out.push({ path: r.path, message: changed.join(', ') });
  }
  for (const a of actual) if (!was.has(a.path)) out.push({ path: a.path, message: `unexpected ${a.type} (not recorded when the entry was stored)` });
  return out;
}

function show(value: string | number | undefined): string {
  if (value === undefined) return '(none)';
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value) ? `${value.slice(0, 12)}…` : JSON.stringify(value);
}
