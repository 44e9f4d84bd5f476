/**
 * Unpacks a recipe bundle (tar) into a folder. The server checked it when it was pushed; this
 * checks again, because a worker runs what it unpacks as root: no absolute paths, no "..", no
 * links leading out, nothing written through a link, no devices, no setuid bits.
 */
import { createWriteStream } from 'node:fs';
import { link, mkdir, rm, symlink } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';

export class BundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BundleError';
  }
}

/** The entry's path made relative and plain, or a BundleError saying why it cannot be. */
export function safePath(name: string): string {
  if (name.startsWith('/')) throw new BundleError(`${name}: an absolute path in the bundle`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new BundleError(`${name}: ".." in a path of the bundle`);
  if (!parts.length) throw new BundleError(`${JSON.stringify(name)}: an empty path in the bundle`);
  return parts.join('/');
}

/** A link target, as seen from the link's folder, must stay inside the bundle. */
export function safeLinkTarget(path: string, target: string): void {
  if (target.startsWith('/')) throw new BundleError(`${path}: a link to the absolute path ${target}`);
  const resolved = posix.normalize(posix.join(posix.dirname(path), target));
  if (resolved === '..' || resolved.startsWith('../')) throw new BundleError(`${path}: a link to ${target}, out of the bundle`);
}

/** Unpacks a tar (gzip-compressed or not) into `dir`; returns how many files it wrote. */
export async function unpackBundle(source: Readable, dir: string): Promise<number> {
  const extract = tar.extract();
  const links = new Set<string>();
  let files = 0;
  const feeding = pipeline(await plainTar(source), extract);
  // A refused entry ends the loop below with its own error; the feeding side then fails too.
  feeding.catch(() => undefined);
  for await (const entry of extract) {
    const { header } = entry;
    const path = safePath(header.name);
    // A folder made a link by an earlier entry would let "link/x" land anywhere the link points.
    for (let at = path.indexOf('/'); at > 0; at = path.indexOf('/', at + 1)) {
      if (links.has(path.slice(0, at))) throw new BundleError(`${path}: written through the link ${path.slice(0, at)}`);
    }
    const target = join(dir, path);
    // Permission bits only: setuid, setgid and sticky bits from a bundle are dropped.
    const mode = (header.mode ?? 0o644) & 0o777;
    switch (header.type) {
      case 'directory':
        await mkdir(target, { recursive: true, mode: mode | 0o700 });
        entry.resume();
        break;
      case 'file':
      case 'contiguous-file':
      case undefined:
      case null:
        await mkdir(dirname(target), { recursive: true });
        await rm(target, { force: true });
        await pipeline(entry, createWriteStream(target, { mode, flags: 'wx' }));
        files += 1;
        break;
      case 'symlink': {
        const to = header.linkname ?? '';
        safeLinkTarget(path, to);
        await mkdir(dirname(target), { recursive: true });
        await rm(target, { force: true });
        await symlink(to, target);
        links.add(path);
        entry.resume();
        break;
      }
      case 'link': {
        const from = safePath(header.linkname ?? '');
        if (links.has(from)) throw new BundleError(`${path}: a hard link to the link ${from}`);
        await mkdir(dirname(target), { recursive: true });
        await rm(target, { force: true });
        await link(join(dir, from), target);
        entry.resume();
        break;
      }
      default:
        throw new BundleError(`${path}: a ${header.type} entry (only files, folders and links belong in a bundle)`);
    }
  }
  await feeding;
  return files;
}

/** The stream as it came, or gunzipped when its first two bytes say gzip. */
async function plainTar(source: Readable): Promise<Readable> {
  const it = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head = await it.next();
  const whole = Readable.from(
    (async function* () {
      if (!head.done) yield head.value;
      for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    })(),
  );
  if (head.done || head.value[0] !== 0x1f || head.value[1] !== 0x8b) return whole;
  const gunzip = createGunzip();
  whole.on('error', (err) => gunzip.destroy(err));
  return whole.pipe(gunzip);
}
