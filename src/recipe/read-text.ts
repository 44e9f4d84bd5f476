/**
 * Reads a recipe or layer file as text, refusing what is not one before it is parsed: a device or
 * FIFO (reading it would never end), a file over the size limit (bounded memory), bytes that are
 * not UTF-8 or hold NUL (a binary file named by mistake). The recipe layer's only file reader.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { Diagnostic } from '../diagnostics.js';
import { LIMITS } from './limits.js';

export type TextRead = { text: string } | { error: Diagnostic };

export function readSourceText(path: string, shownAs: string, what: 'recipe' | 'layer'): TextRead {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? `no such ${what} file` : code === 'EISDIR' ? 'is a folder' : `cannot be read (${code ?? String(err)})`;
    return fail(shownAs, `${why} (give the path to a ${what} YAML file, e.g. examples/minimal.yaml)`);
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) return fail(shownAs, `is a folder (give the path to a ${what} YAML file)`);
    if (!stat.isFile()) return fail(shownAs, `is not a regular file (a device, FIFO or socket); give a ${what} YAML file`);
    if (stat.size > LIMITS.fileBytes) return fail(shownAs, `is ${stat.size} bytes, over the limit of ${LIMITS.fileBytes} for a ${what} file (keep big files next to it and name them with files: src)`);
    // One byte more than the limit: a file that grew since fstat is still caught.
    const buffer = Buffer.alloc(LIMITS.fileBytes + 1);
    const length = readSync(fd, buffer, 0, buffer.length, 0);
    if (length > LIMITS.fileBytes) return fail(shownAs, `is over the limit of ${LIMITS.fileBytes} bytes for a ${what} file`);
    return decode(buffer.subarray(0, length), shownAs, what);
  } finally {
    closeSync(fd);
  }
}

function decode(bytes: Buffer, shownAs: string, what: string): TextRead {
  const nul = bytes.indexOf(0);
  const bad = nul >= 0 ? nul : firstInvalidUtf8(bytes);
  if (bad < 0) return { text: bytes.toString('utf8') };
  const before = bytes.subarray(0, bad).toString('utf8');
  const line = before.split('\n').length;
  const col = bad - (before.lastIndexOf('\n') + 1) + 1;
  const why = nul >= 0 ? 'holds a NUL byte' : `holds the byte 0x${(bytes[bad] ?? 0).toString(16).padStart(2, '0')}, which is not UTF-8`;
  return { error: { file: shownAs, line, col, message: `${why}: a ${what} file is UTF-8 text (is this the right file?)` } };
}

/** The offset where the first sequence that is not UTF-8 starts, or -1. */
function firstInvalidUtf8(bytes: Buffer): number {
  if (decodes(bytes)) return -1;
  // The longest prefix that decodes ends where the bad sequence starts: halve towards it.
  let good = 0;
  let bad = bytes.length;
  while (bad - good > 1) {
    const mid = (good + bad) >> 1;
    if (decodes(bytes.subarray(0, mid), true)) good = mid;
    else bad = mid;
  }
  // `good` may end inside a character that the stream allowed to continue: step back to its start.
  while (good > 0 && !decodes(bytes.subarray(0, good))) good--;
  return good;
}

/** Whether the bytes decode; `open` allows a character cut off at the end. */
function decodes(bytes: Buffer, open = false): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: open });
    return true;
  } catch {
    return false;
  }
}

const fail = (file: string, message: string): TextRead => ({ error: { file, message } });
