/**
 * Unpacks a recipe bundle (tar, optionally gzip) that arrived over the network into an empty
 * folder, refusing everything that could reach outside it or smuggle something in: absolute
 * paths, `..`, links that lead out, devices and FIFOs, setuid/setgid bits, too many bytes.
 * Hard links become copies, so the folder holds only files, folders and links that stay inside.
 */
import { copyFile, mkdir, open, readlink, realpath, symlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { writeAll } from '../write-all.js';
import { linkStaysInside } from './link-walk.js';

export class BundleError extends Error {
  constructor(
    readonly code: 'invalid_bundle' | 'too_large',
    message: string,
  ) {
    super(message);
    this.name = 'BundleError';
  }
}

export interface UnpackLimits {
  /** Bytes read from the request (compressed). */
  maxUpload: number;
  /** Bytes of the unpacked files together (a small gzip can inflate to a huge tar). */
  maxUnpacked: number;
  maxEntries: number;
}

/** Counts bytes as they pass and fails the stream past `max`. */
export function byteLimit(max: number, what: string, flag = '--max-upload'): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > max) callback(new BundleError('too_large', `${what} is larger than ${max} bytes (the server's ${flag})`));
      else callback(null, chunk);
    },
  });
}

/** Pushes the first chunk back after peeking at it, so gzip can be told from tar by its magic. */
async function gunzipIfNeeded(input: Readable): Promise<Readable> {
  const iterator = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await iterator.next();
  const head: Buffer = first.done ? Buffer.alloc(0) : first.value;
  const rest = (async function* () {
    if (head.length) yield head;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  })();
  const source = Readable.from(rest);
  if (head[0] === 0x1f && head[1] === 0x8b) return source.pipe(createGunzip());
  return source;
}

/** Normalises an entry name; undefined when it must be refused (absolute, `..`, empty). */
export function safeName(raw: string): string | undefined {
  if (raw.includes('\0') || raw.startsWith('/')) return undefined;
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.some((p) => p === '..')) return undefined;
  return parts.join('/');
}

/** Where a link target leads, relative to the bundle root; undefined when it leaves the bundle. */
export function linkInside(entry: string, target: string): string | undefined {
  if (target.startsWith('/') || target.includes('\0')) return undefined;
  const joined = posix.normalize(posix.join(posix.dirname(entry), target));
  if (joined === '..' || joined.startsWith('../')) return undefined;
  return joined;
}

/** Unpacks `input` into `dest` (an existing empty folder). Throws BundleError naming the entry. */
export async function unpackBundle(input: Readable, dest: string, limits: UnpackLimits): Promise<void> {
  const limited = input.pipe(byteLimit(limits.maxUpload, 'the upload'));
  input.on('error', (err) => limited.destroy(err));
  const extract = tar.extract();
  const links: string[] = [];
  const seen = new Set<string>();
  const files = new Set<string>();
  let entries = 0;
  let unpacked = 0;
  const refuse = (name: string, why: string) => new BundleError('invalid_bundle', `bundle entry ${JSON.stringify(name)} ${why}`);

  const consume = (async () => {
    for await (const entry of extract) {
      const header = entry.header;
      if (header.type === 'directory' && /^(\.\/?)?$/.test(header.name)) {
        entry.resume(); // "./": the bundle's root itself
        continue;
      }
      const name = safeName(header.name);
      if (name === undefined) {
        entry.resume();
        throw refuse(header.name, header.name.startsWith('/') ? 'is an absolute path; bundles hold paths relative to the recipe folder' : 'leaves the bundle (`..` or an empty name)');
      }
      if (++entries > limits.maxEntries) throw new BundleError('too_large', `the bundle holds more than ${limits.maxEntries} entries`);
      if (seen.has(name) && header.type !== 'directory') throw refuse(name, 'appears twice');
      const mode = header.mode ?? 0o644;
      if (mode & 0o6000) throw refuse(name, 'has the setuid or setgid bit; recipes may not carry them (set modes in the recipe)');
      // A path through a link could write outside the folder: parents must be real folders.
      for (let i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
        if (links.includes(name.slice(0, i))) throw refuse(name, 'is inside a symbolic link; bundles hold real folders');
      }
      const path = `${dest}/${name}`;
      switch (header.type) {
        case 'directory':
          await mkdir(path, { recursive: true, mode: 0o755 });
          entry.resume();
          break;
        case 'file':
        case 'contiguous-file': {
          unpacked += header.size ?? 0;
          if (unpacked > limits.maxUnpacked) throw new BundleError('too_large', `the bundle unpacks to more than ${limits.maxUnpacked} bytes`);
          await mkdir(posix.dirname(path), { recursive: true, mode: 0o755 });
          const handle = await open(path, 'wx', mode & 0o111 ? 0o755 : 0o644);
          try {
            // tar-stream's entries are streamx streams: read them by iteration, not node's pipeline.
            for await (const chunk of entry) await writeAll(handle, chunk as Buffer);
          } finally {
            await handle.close();
          }
          files.add(name);
          break;
        }
        case 'symlink': {
          const target = header.linkname ?? '';
          if (linkInside(name, target) === undefined) throw refuse(name, `is a link to ${JSON.stringify(target)}, which leads out of the bundle`);
          await mkdir(posix.dirname(path), { recursive: true, mode: 0o755 });
          await symlink(target, path);
          links.push(name);
          entry.resume();
          break;
        }
        case 'link': {
          const target = safeName(header.linkname ?? '');
          if (target === undefined || !files.has(target)) throw refuse(name, `is a hard link to ${JSON.stringify(header.linkname)}, which is not a file of the bundle`);
          await mkdir(posix.dirname(path), { recursive: true, mode: 0o755 });
          await copyFile(`${dest}/${target}`, path);
          files.add(name);
          entry.resume();
          break;
        }
        default:
          entry.resume();
          throw refuse(name, `is a ${header.type ?? 'special file'}; bundles hold only files, folders and links`);
      }
      seen.add(name);
    }
  })();

  try {
    const source = await gunzipIfNeeded(limited);
    await Promise.all([pipeline(source, extract), consume]);
  } catch (err) {
    extract.destroy();
    limited.destroy();
    if (err instanceof BundleError) throw err;
    if (err instanceof Error && /unexpected end|invalid tar|incorrect header|invalid header|unknown format/i.test(err.message)) {
      throw new BundleError('invalid_bundle', `the body is not a tar or tar.gz bundle: ${err.message}`);
    }
    throw err;
  }
  await checkLinks(dest, links);
}

/** Links are checked again on the disk: a chain of links can leave a folder that no single one does. */
async function checkLinks(dest: string, links: string[]): Promise<void> {
  const root = await realpath(dest);
  for (const name of links) {
    // Dangling links are kept (they are resolved inside the image), but not one whose way there leaves the bundle.
    if (!(await linkStaysInside(root, `${root}/${name}`))) {
      const target = await readlink(`${dest}/${name}`);
      throw new BundleError('invalid_bundle', `bundle entry ${JSON.stringify(name)} is a link to ${JSON.stringify(target)}, which leads out of the bundle`);
    }
  }
}
