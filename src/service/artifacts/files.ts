/**
 * Artifact files: `<artifacts>/<build>/<lease>/<name>`. An upload goes to a temporary file beside
 * its final place, hashed while it streams, fsynced, and renamed only when its sha256 is the one
 * the worker announced; anything else removes the temporary file, so no partial file is ever
 * under a listed name. The lease in the path keeps a requeued attempt from overwriting another's.
 */
import { hashingStream } from '../../host/hashing-stream.js';
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, link, lstat, mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isSystemError } from '../../errors.js';
import { BundleError, byteLimit } from '../bundle/unpack.js';
import { writeAll } from '../write-all.js';

/** A plain file name: no folders, no leading dot (temporary files start with one), no controls. */
export const ARTIFACT_NAME = /^[A-Za-z0-9_+=@-][A-Za-z0-9._+=@-]{0,254}$/;

export interface StoredFile {
  /** Relative to the artifact folder. */
  path: string;
  size: number;
  sha256: string;
}

export class ChecksumMismatch extends Error {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`the upload's sha256 is ${actual}, not ${expected} as X-Kiln-Sha256 said; nothing was stored`);
    this.name = 'ChecksumMismatch';
  }
}

/**
 * Streams `body` into place. `beforeRename` runs after the bytes are safe on disk and checked and
 * may throw to abandon the file (the lease was lost meanwhile).
 */
export async function storeArtifact(root: string, rel: ArtifactPlace, body: Readable, expected: string, maxBytes: number, beforeRename: () => Promise<void>): Promise<StoredFile> {
  return place(root, rel, expected, beforeRename, async (tmp) => {
    const hasher = hashingStream();
    const handle = await open(tmp, 'wx', 0o644);
    try {
      // A failed write (ENOSPC) makes pipeline tear the request stream down, and what pipeline
      // then rejects with can be that teardown (an AbortError): the write's own error is the cause.
      let writeError: unknown;
      await pipeline(body, byteLimit(maxBytes, 'the artifact', '--max-artifact'), hasher.stream, async (source: AsyncIterable<Buffer>) => {
        try {
          for await (const chunk of source) await writeAll(handle, chunk);
        } catch (err) {
          writeError = err;
          throw err;
        }
      }).catch((err: unknown) => {
        throw writeError ?? err;
      });
      await handle.sync();
    } finally {
      await handle.close();
    }
    return hasher.result();
  });
}

/**
 * Takes a file the in-process worker wrote on this machine: linked into place when it is on the
 * artifact folder's file system (no copy), else copied (a reflink where the file system can);
 * then hashed, synced and renamed as an upload is. The worker's own name for it is its to remove.
 */
export async function adoptArtifact(root: string, rel: ArtifactPlace, source: string, expected: string, maxBytes: number, beforeRename: () => Promise<void>): Promise<StoredFile> {
  // Before any copy: a file over the limit is refused at once, not after the copy.
  checkSize((await lstat(source)).size, maxBytes);
  return place(root, rel, expected, beforeRename, async (tmp) => {
    try {
      await link(source, tmp);
    } catch (err) {
      if (!isSystemError(err) || !['EXDEV', 'EPERM', 'EMLINK'].includes(err.code ?? '')) throw err;
      await copyFile(source, tmp, constants.COPYFILE_FICLONE);
    }
    // Not through a link, whatever was put in the source's place meanwhile.
    const handle = await open(tmp, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const written = await hashWhole(handle);
      checkSize(written.size, maxBytes);
      await handle.sync();
      return written;
    } finally {
      await handle.close();
    }
  });
}

type ArtifactPlace = { build: string; lease: string; name: string };

/**
 * What both ways in share: `fill` writes a temporary file beside the final place (synced) and says
 * its size and sha256; it is renamed into place only when that sha256 is the expected one and
 * `beforeRename` (the lease is still held) passes, and removed otherwise.
 */
async function place(root: string, rel: ArtifactPlace, expected: string, beforeRename: () => Promise<void>, fill: (tmp: string) => Promise<{ size: number; sha256: string }>): Promise<StoredFile> {
  const dir = join(root, rel.build, rel.lease);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.tmp-${randomBytes(6).toString('hex')}-${rel.name}`);
  let renamed = false;
  try {
    const written = await fill(tmp);
    if (written.sha256 !== expected) throw new ChecksumMismatch(expected, written.sha256);
    await beforeRename();
    await rename(tmp, join(dir, rel.name));
    renamed = true;
    await syncFolder(dir);
    return { path: `${rel.build}/${rel.lease}/${rel.name}`, ...written };
  } finally {
    if (!renamed) await rm(tmp, { force: true });
  }
}

function checkSize(size: number, maxBytes: number): void {
  if (size > maxBytes) throw new BundleError('too_large', `the artifact (${size} bytes) is larger than ${maxBytes} bytes (the server's --max-artifact)`);
}

async function hashWhole(handle: FileHandle): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
  let size = 0;
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, size);
    if (bytesRead === 0) return { size, sha256: hash.digest('hex') };
    hash.update(buffer.subarray(0, bytesRead));
    size += bytesRead;
  }
}

/** The rename itself must reach the disk before the artifact is listed. */
async function syncFolder(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
