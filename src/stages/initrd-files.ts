/**
 * The files in an initramfs: the paths of its cpio archives ("newc", what the kernel unpacks),
 * which may be stored one after another, the last one usually compressed (an uncompressed early
 * archive with CPU microcode, then the main one). Compressed parts are unpacked with the host's
 * zstd or xz (kiln's host tools) or Node's gzip; another compression is reported as unreadable.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Exec } from '../host/exec.js';

const HEADER = 110;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

/** How many of a regular file's first bytes `heads` keeps: enough for an ELF header's machine. */
const HEAD = 20;

/**
 * The paths of every entry but folders in uncompressed newc archives, from `at`; where the bytes
 * stop being newc. `heads`, if given, gets the first bytes of each regular file.
 */
export function cpioFiles(data: Buffer, at = 0, into: Set<string> = new Set(), heads?: Map<string, Buffer>): { files: Set<string>; end: number } {
  let pos = at;
  for (;;) {
    // Archives are padded (to 512 bytes, by convention) with zeros before the next one.
    while (pos < data.length && data[pos] === 0) pos++;
    const magic = data.toString('latin1', pos, pos + 6);
    if (pos + HEADER > data.length || (magic !== '070701' && magic !== '070702')) return { files: into, end: pos };
    const field = (n: number) => parseInt(data.toString('latin1', pos + 6 + n * 8, pos + 14 + n * 8), 16);
    const mode = field(1);
    const size = field(6);
    const nameSize = field(11);
    const name = data.toString('utf8', pos + HEADER, pos + HEADER + nameSize - 1);
    const content = align4(pos + HEADER + nameSize);
    pos = align4(content + size);
    if (name === 'TRAILER!!!') continue;
    const path = name.replace(/^\.?\//, '');
    if ((mode & S_IFMT) !== S_IFDIR) into.add(path);
    if (heads && (mode & S_IFMT) === S_IFREG) heads.set(path, Buffer.from(data.subarray(content, content + Math.min(size, HEAD))));
  }
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

const COMPRESSED: { name: string; magic: number[]; suffix?: string; command?: (file: string) => [string, string[]] }[] = [
  { name: 'zstd', magic: [0x28, 0xb5, 0x2f, 0xfd], suffix: '.zst', command: (f) => ['zstd', ['-d', '-q', '-f', `${f}.zst`, '-o', f]] },
  { name: 'xz', magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], suffix: '.xz', command: (f) => ['xz', ['-d', '-k', '-q', '-f', `${f}.xz`]] },
  { name: 'gzip', magic: [0x1f, 0x8b] },
];

/**
 * Every file and link in the initramfs (paths relative to its root), or a sentence saying why they
 * cannot be read. `scratch` holds the unpacked archive while it is read; `heads` gets the first
 * bytes of each regular file.
 */
export async function initrdFiles(exec: Exec, initrd: string, scratch: string, heads?: Map<string, Buffer>): Promise<Set<string> | string> {
  const data = await readFile(initrd);
  const { files, end } = cpioFiles(data, 0, new Set(), heads);
  if (end >= data.length) return files;
  const kind = COMPRESSED.find((c) => c.magic.every((b, i) => data[end + i] === b));
  if (!kind) return `its compression (bytes ${data.subarray(end, end + 4).toString('hex')} at ${end}) is not one kiln reads`;
  let unpacked: Buffer;
  if (kind.command && kind.suffix) {
    const file = join(scratch, 'initrd.cpio');
    await writeFile(`${file}${kind.suffix}`, data.subarray(end));
    const [command, args] = kind.command(file);
    await exec(command, args);
    unpacked = await readFile(file);
  } else {
    unpacked = gunzipSync(data.subarray(end));
  }
  const rest = cpioFiles(unpacked, 0, files, heads);
  return rest.end >= unpacked.length ? files : `its ${kind.name} part holds more than cpio archives`;
}
