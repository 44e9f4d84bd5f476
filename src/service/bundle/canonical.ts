/**
 * The canonical tar of a recipe folder: paths in byte order, modes reduced to 0755/0644, owners 0,
 * mtimes 0. The same folder always gives the same bytes, so its sha256 names the content and a
 * push of unchanged files finds the version it already is.
 */
import { hashingStream } from '../../host/hashing-stream.js';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

export interface PackedBundle {
  sha256: string;
  /** Bytes of the tar. */
  size: number;
  /** Regular files in it. */
  files: number;
  /** Every file and link, relative to the folder, in tar order. */
  paths: string[];
}

interface Item {
  path: string;
  kind: 'dir' | 'file' | 'link';
  size: number;
  mode: number;
}

/** Every entry below `dir`, parents before children, in byte order of their paths. */
export async function listTree(dir: string): Promise<Item[]> {
  const items: Item[] = [];
  const walk = async (rel: string) => {
    const names = (await readdir(rel ? `${dir}/${rel}` : dir)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      const path = rel ? `${rel}/${name}` : name;
      const stat = await lstat(`${dir}/${path}`);
      if (stat.isDirectory()) {
        items.push({ path, kind: 'dir', size: 0, mode: 0o755 });
        await walk(path);
      } else if (stat.isSymbolicLink()) items.push({ path, kind: 'link', size: 0, mode: 0o777 });
      else if (stat.isFile()) items.push({ path, kind: 'file', size: stat.size, mode: stat.mode & 0o111 ? 0o755 : 0o644 });
    }
  };
  await walk('');
  return items;
}

/** Writes the canonical tar of `dir` to `out` and returns its hash, computed while writing. */
export async function packCanonical(dir: string, out: string): Promise<PackedBundle> {
  const items = await listTree(dir);
  const pack = tar.pack();
  const counter = hashingStream();
  const writing = pipeline(pack, counter.stream, createWriteStream(out, { mode: 0o644 }));
  const base = { uid: 0, gid: 0, uname: '', gname: '', mtime: new Date(0) };
  for (const item of items) {
    if (item.kind === 'dir') pack.entry({ ...base, name: `${item.path}/`, type: 'directory', mode: item.mode });
    else if (item.kind === 'link') pack.entry({ ...base, name: item.path, type: 'symlink', mode: item.mode, linkname: await readlink(`${dir}/${item.path}`) });
    else {
      const entry = pack.entry({ ...base, name: item.path, type: 'file', mode: item.mode, size: item.size });
      await pipeline(createReadStream(`${dir}/${item.path}`), entry);
    }
  }
  pack.finalize();
  await writing;
  return { ...counter.result(), files: items.filter((i) => i.kind === 'file').length, paths: items.filter((i) => i.kind !== 'dir').map((i) => i.path) };
}
