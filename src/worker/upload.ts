/**
 * Uploads a finished build's output folder: every file, each hashed first and then streamed with
 * its sha256, which the server checks before it lists the artifact. Artifacts are plain file
 * names, so a folder output (an OCI image layout) goes up as `<folder>.tar`, which is the
 * standard "oci-archive" form (skopeo copy oci-archive:NAME.tar ...). build.json goes last: once
 * it is listed, all the rest is.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { sha256File } from '../host/sparse-hash.js';
import { ARTIFACT_NAME } from '../service/artifacts/files.js';
import { ApiError, backoffMs, sleep, type ApiClient } from './api.js';
import { routes } from './routes.js';

export interface Upload {
  /** The artifact's name. */
  name: string;
  path: string;
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** What the output folder becomes: its files, and a tar (made in `staging`) for each folder. */
export async function uploadsOf(dir: string, staging: string): Promise<Upload[]> {
  const uploads: Upload[] = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => byName(a.name, b.name))) {
    if (entry.isFile()) uploads.push({ name: entry.name, path: join(dir, entry.name) });
    else if (entry.isDirectory()) {
      await mkdir(staging, { recursive: true });
      const path = join(staging, `${entry.name}.tar`);
      await tarFolder(join(dir, entry.name), entry.name, path);
      uploads.push({ name: `${entry.name}.tar`, path });
    }
  }
  for (const u of uploads) {
    if (!ARTIFACT_NAME.test(u.name)) throw new Error(`output ${u.name}: not a name the server accepts for an artifact`);
  }
  const rank = (u: Upload) => (u.name === 'build.json' ? 1 : 0);
  return uploads.sort((a, b) => rank(a) - rank(b) || byName(a.name, b.name));
}

/** A folder as a tar with `top/` as its root: sorted, owners and times fixed, so it is reproducible. */
export async function tarFolder(folder: string, top: string, target: string): Promise<void> {
  const entries = (await readdir(folder, { recursive: true, withFileTypes: true }))
    .map((d) => ({ d, rel: relative(folder, join(d.parentPath, d.name)).split(sep).join('/') }))
    .sort((a, b) => byName(a.rel, b.rel));
  const pack = tar.pack();
  const writing = pipeline(pack, createWriteStream(target));
  const header = { mtime: new Date(0), uid: 0, gid: 0, uname: '', gname: '' };
  pack.entry({ ...header, name: `${top}/`, type: 'directory', mode: 0o755 });
  for (const { d, rel } of entries) {
    const full = join(folder, rel);
    if (d.isDirectory()) pack.entry({ ...header, name: `${top}/${rel}/`, type: 'directory', mode: 0o755 });
    else if (d.isFile()) {
      const { size, mode } = await stat(full);
      const sink = pack.entry({ ...header, name: `${top}/${rel}`, type: 'file', size, mode: mode & 0o777 });
      await pipeline(createReadStream(full), sink);
    }
  }
  pack.finalize();
  await writing;
}

export interface UploadOptions {
  api: ApiClient;
  lease: string;
  jobToken: string;
  uploads: Upload[];
  signal: AbortSignal;
  /** Network errors are retried this many times per file. */
  retries?: number;
  onFile?: (name: string, size: number, sha256: string) => void;
}

/** Uploads every file; throws the server's refusal (e.g. disk full) or the last network error. */
export async function uploadOutputs(o: UploadOptions): Promise<number> {
  for (const { name, path } of o.uploads) {
    const [sha256, { size }] = await Promise.all([sha256File(path), stat(path)]);
    for (let attempt = 0; ; attempt++) {
      try {
        await o.api.request('PUT', routes.jobArtifact(o.lease, name), {
          // An empty file as an empty stream leaves the server's side of the connection waiting
          // for a body that never ends (it then delays the server's shutdown by its keep-alive).
          body: size === 0 ? new Uint8Array(0) : (Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>),
          headers: {
            'content-type': 'application/octet-stream',
            'content-length': String(size),
            'x-kiln-sha256': sha256,
            'x-kiln-job-token': o.jobToken,
          },
          signal: o.signal,
        });
        break;
      } catch (err) {
        // 507: the server's disk is full; trying again would only fill it again.
        if (!(err instanceof ApiError) || !err.retryable || err.status === 507 || attempt >= (o.retries ?? 3) || o.signal.aborted) {
          throw err instanceof ApiError ? new ApiError(`upload of ${name}: ${err.message}`, err.status, err.code) : err;
        }
        await sleep(backoffMs(attempt, 10_000), o.signal);
      }
    }
    o.onFile?.(name, size, sha256);
  }
  return o.uploads.length;
}
