/**
 * A ustar writer for packing a picked folder in the browser (POST /v1/recipes takes a tar). Files
 * only (folders are implied by paths, as the server's unpacker allows), mode 0644 or 0755, owner 0,
 * mtime 0, so the same folder always packs to the same bytes. Pure: Uint8Array in, Uint8Array out.
 */

export interface TarFile {
  /** Relative, `/`-separated. */
  path: string;
  data: Uint8Array;
  executable?: boolean;
}

const BLOCK = 512;
const encoder = new TextEncoder();

function writeString(block: Uint8Array, offset: number, length: number, text: string): void {
  const bytes = encoder.encode(text);
  if (bytes.length > length) throw new Error(`"${text}" is longer than ${length} bytes`);
  block.set(bytes, offset);
}

/** An octal field: digits, zero-padded, ending in NUL (ustar). */
function writeOctal(block: Uint8Array, offset: number, length: number, value: number): void {
  writeString(block, offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
}

/** Splits a long path into ustar's prefix (155 bytes) and name (100 bytes) at a `/`. */
export function splitPath(path: string): { prefix: string; name: string } {
  if (encoder.encode(path).length <= 100) return { prefix: '', name: path };
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (encoder.encode(prefix).length <= 155 && encoder.encode(name).length <= 100) return { prefix, name };
  }
  throw new Error(`${path}: the path is too long for a tar bundle (at most 100 bytes per name and 255 in all)`);
}

function header(file: TarFile): Uint8Array {
  const block = new Uint8Array(BLOCK);
  const { prefix, name } = splitPath(file.path);
  writeString(block, 0, 100, name);
  writeOctal(block, 100, 8, file.executable ? 0o755 : 0o644);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, file.data.length);
  writeOctal(block, 136, 12, 0);
  block.fill(0x20, 148, 156); // the checksum is computed with its own field as spaces
  block[156] = 0x30; // '0': regular file
  writeString(block, 257, 6, 'ustar\0');
  writeString(block, 263, 2, '00');
  writeString(block, 345, 155, prefix);
  const sum = block.reduce((a, b) => a + b, 0);
  writeString(block, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return block;
}

function checkPath(path: string): void {
  if (!path || path.startsWith('/') || path.split('/').some((part) => part === '..' || part === '' || part === '.')) {
    throw new Error(`${JSON.stringify(path)}: not a relative path inside the folder`);
  }
}

/** The tar of `files` (sorted by path, so the order they were picked in does not matter). */
export function tarOf(files: readonly TarFile[]): Uint8Array<ArrayBuffer> {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const size = sorted.reduce((n, f) => n + BLOCK + Math.ceil(f.data.length / BLOCK) * BLOCK, 2 * BLOCK);
  const out = new Uint8Array(size);
  let at = 0;
  for (const file of sorted) {
    checkPath(file.path);
    out.set(header(file), at);
    out.set(file.data, at + BLOCK);
    at += BLOCK + Math.ceil(file.data.length / BLOCK) * BLOCK;
  }
  return out; // the two zero blocks that end the archive are already zero
}

const decoder = new TextDecoder();
const field = (block: Uint8Array, offset: number, length: number) => decoder.decode(block.subarray(offset, offset + length)).replace(/\0.*$/s, '');

/**
 * The regular files of a ustar archive (the server's canonical recipe bundles), for showing a
 * bundle's files. pax and GNU long-name records are applied to the entry that follows them.
 */
export function readTar(tar: Uint8Array): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  let longName: string | undefined;
  for (let at = 0; at + BLOCK <= tar.length; ) {
    const block = tar.subarray(at, at + BLOCK);
    if (block.every((b) => b === 0)) break;
    const size = parseInt(field(block, 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(block[156] ?? 0);
    const data = tar.subarray(at + BLOCK, at + BLOCK + size);
    const prefix = field(block, 345, 155);
    const name = longName ?? (prefix ? `${prefix}/${field(block, 0, 100)}` : field(block, 0, 100));
    longName = undefined;
    if (type === 'L') longName = decoder.decode(data).replace(/\0.*$/s, '');
    else if (type === 'x') longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(decoder.decode(data))?.[1];
    else if (type === '0' || type === '\0') out.set(name.replace(/^\.\//, ''), data);
    at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  return out;
}
