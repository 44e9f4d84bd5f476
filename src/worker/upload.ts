/**
 * Uploads a finished build's output folder: every file with its sha256, which the server checks
 * before it lists the artifact. The sha256 comes from the build's own SHA256SUMS where it lists
 * the file (kiln hashed it while writing it), else from hashing it here. Artifacts are plain file
 * names, so a folder output (an OCI image layout) goes up as `<folder>.tar`, which is the
 * standard "oci-archive" form (skopeo copy oci-archive:NAME.tar ...). Two files go up at a time
 * (one hashes or syncs while the other streams); build.json goes last: once it is listed, all the
 * rest is.
 *
 * The in-process worker of `kiln serve` hands its files over by path instead of streaming them
 * (`local`): the server links them into place (one file system) or copies them, and still checks
 * their sha256.
 */
import { hashingStream } from '../host/hashing-stream.js';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { sha256File } from '../host/sparse-hash.js';
import { ARTIFACT_NAME } from '../service/artifacts/files.js';
import { LOCAL_FILE_HEADER, SHA256_HEADER } from '../service/protocol.js';
import { ApiError, backoffMs, sleep, type ApiClient } from './api.js';
import { routes } from './routes.js';

export interface Upload {
  /** The artifact's name. */
  name: string;
  path: string;
  /** Known without reading the file again (SHA256SUMS, or hashed while it was written). */
  sha256?: string;
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** What the output folder becomes: its files, and a tar (made in `staging`) for each folder. */
export async function uploadsOf(dir: string, staging: string): Promise<Upload[]> {
  const uploads: Upload[] = [];
  const sums = await readSums(join(dir, 'SHA256SUMS'));
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => byName(a.name, b.name))) {
    if (entry.isFile()) {
      const sha256 = sums.get(entry.name);
      uploads.push({ name: entry.name, path: join(dir, entry.name), ...(sha256 ? { sha256 } : {}) });
    } else if (entry.isDirectory()) {
      await mkdir(staging, { recursive: true });
      const path = join(staging, `${entry.name}.tar`);
      const sha256 = await tarFolder(join(dir, entry.name), entry.name, path);
      uploads.push({ name: `${entry.name}.tar`, path, sha256 });
    }
  }
  for (const u of uploads) {
    if (!ARTIFACT_NAME.test(u.name)) throw new Error(`output ${u.name}: not a name the server accepts for an artifact`);
  }
  const rank = (u: Upload) => (u.name === 'build.json' ? 1 : 0);
  return uploads.sort((a, b) => rank(a) - rank(b) || byName(a.name, b.name));
}

/** `sha256  name` lines (sha256sum's format) of the files at the top of the output folder. */
async function readSums(file: string): Promise<Map<string, string>> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const sums = new Map<string, string>();
  for (const m of text.matchAll(/^([0-9a-f]{64}) [ *](.+)$/gm)) if (m[1] && m[2] && !m[2].includes('/')) sums.set(m[2], m[1]);
  return sums;
}

/**
 * A folder as a tar with `top/` as its root: sorted, owners and times fixed, so it is
 * reproducible. Returns the tar's sha256, taken while it was written.
 */
export async function tarFolder(folder: string, top: string, target: string): Promise<string> {
  const entries = (await readdir(folder, { recursive: true, withFileTypes: true }))
    .map((d) => ({ d, rel: relative(folder, join(d.parentPath, d.name)).split(sep).join('/') }))
    .sort((a, b) => byName(a.rel, b.rel));
  const pack = tar.pack();
  const hashing = hashingStream();
  const writing = pipeline(pack, hashing.stream, createWriteStream(target));
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
  return hashing.result().sha256;
}

export interface UploadOptions {
  api: ApiClient;
  lease: string;
  jobToken: string;
  uploads: Upload[];
  signal: AbortSignal;
  /** The server is on this machine and reads the files itself (the in-process worker). */
  local?: boolean;
  /** Network errors are retried this many times per file. */
  retries?: number;
}

/** Files uploading at once. */
const PARALLEL = 2;

/** Uploads every file; throws the server's refusal (e.g. disk full) or the first error. */
export async function uploadOutputs(o: UploadOptions): Promise<number> {
  const last = o.uploads.filter((u) => u.name === 'build.json');
  const first = o.uploads.filter((u) => u.name !== 'build.json');
  let next = 0;
  const failed = new AbortController();
  const signal = AbortSignal.any([o.signal, failed.signal]);
  const slot = async () => {
    for (let u = first[next++]; u; u = first[next++]) await uploadOne(o, u, signal);
  };
  try {
    await Promise.all(Array.from({ length: PARALLEL }, slot));
  } catch (err) {
    // The other slot stops too: the build fails with this file's reason.
    failed.abort();
    throw err;
  }
  for (const u of last) await uploadOne(o, u, signal);
  return o.uploads.length;
}

async function uploadOne(o: UploadOptions, { name, path, ...known }: Upload, signal: AbortSignal): Promise<void> {
  const [sha256, { size }] = await Promise.all([known.sha256 ?? sha256File(path), stat(path)]);
  for (let attempt = 0; ; attempt++) {
    if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('the upload was stopped');
    try {
      await o.api.request('PUT', routes.jobArtifact(o.lease, name), {
        ...(o.local ? { headers: { ...headers(o, sha256), [LOCAL_FILE_HEADER]: resolve(path) } } : {
          // An empty file as an empty stream leaves the server's side of the connection waiting
          // for a body that never ends (it then delays the server's shutdown by its keep-alive).
          body: size === 0 ? new Uint8Array(0) : (Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>),
          headers: { ...headers(o, sha256), 'content-type': 'application/octet-stream', 'content-length': String(size) },
        }),
        signal,
      });
      break;
    } catch (err) {
      // 507: the server's disk is full; trying again would only fill it again.
      if (!(err instanceof ApiError) || !err.retryable || err.status === 507 || attempt >= (o.retries ?? 3) || signal.aborted) {
        throw err instanceof ApiError ? new ApiError(`upload of ${name}: ${err.message}`, err.status, err.code) : err;
      }
      await sleep(backoffMs(attempt, 10_000), signal);
    }
  }
}

function headers(o: UploadOptions, sha256: string): Record<string, string> {
  return { [SHA256_HEADER]: sha256, 'x-kiln-job-token': o.jobToken };
}
