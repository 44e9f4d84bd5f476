/**
 * A recipe folder as a tar.gz for `kiln remote push`: sorted paths, fixed owners and times (the
 * same folder packs to the same bytes), files, folders and symlinks only. Left out: editor
 * backups and swap files, version-control folders, and kiln output folders (a local build's ./out
 * holds gigabytes of images nobody means to push).
 */
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { UserError } from '../errors.js';

const VCS = new Set(['.git', '.hg', '.svn']);

/** Editor leftovers: foo~, .foo.swp/.swo/.swx, #foo#, .#foo, foo.bak, foo.orig, .DS_Store. */
export function isBackup(name: string): boolean {
  return /~$/.test(name) || /^\..*\.sw[a-p]$/.test(name) || /^#.*#$/.test(name) || name.startsWith('.#') || /\.(bak|orig|rej)$/.test(name) || name === '.DS_Store';
}

export interface PackEntry {
  path: string;
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  /** The full path on disk (files) or the link target (symlinks). */
  source: string;
}

/** The entries to pack, parents before children, sorted; what is left out is counted. */
export async function packList(root: string): Promise<{ entries: PackEntry[]; skipped: string[] }> {
  const entries: PackEntry[] = [];
  const skipped: string[] = [];
  const walk = async (rel: string) => {
    const names = (await readdir(join(root, rel))).sort();
    // A folder with both is the output of `kiln build`.
    if (rel && names.includes('build.json') && names.includes('SHA256SUMS')) {
      skipped.push(`${rel}/`);
      entries.splice(entries.findIndex((e) => e.path === rel), 1);
      return;
    }
    for (const name of names) {
      const path = rel ? `${rel}/${name}` : name;
      const full = join(root, path);
      const st = await lstat(full);
      if (isBackup(name) || (st.isDirectory() && VCS.has(name))) {
        skipped.push(st.isDirectory() ? `${path}/` : path);
        continue;
      }
      const mode = st.mode & 0o7777;
      if (st.isDirectory()) {
        entries.push({ path, type: 'directory', mode, source: full });
        await walk(path);
      } else if (st.isFile()) entries.push({ path, type: 'file', mode, source: full });
      else if (st.isSymbolicLink()) entries.push({ path, type: 'symlink', mode: 0o777, source: await readlink(full) });
      else throw new UserError(`${full}: neither a file, a folder nor a link; a recipe folder holds only those`);
    }
  };
  await walk('');
  return { entries, skipped };
}

/** The gzip-compressed tar of `entries` as a stream. */
export function packStream(entries: PackEntry[]): Readable {
  const pack = tar.pack();
  const mtime = new Date(0);
  void (async () => {
    try {
      for (const e of entries) {
        const header = { name: e.type === 'directory' ? `${e.path}/` : e.path, mode: e.mode, mtime, uid: 0, gid: 0, uname: '', gname: '' };
        if (e.type === 'file') {
          // Whole files, one at a time: recipe folders are small, and the size must be known first.
          const body = await readFile(e.source);
          await new Promise<void>((resolve, reject) => pack.entry({ ...header, type: 'file', size: body.length }, body, (err) => (err ? reject(err) : resolve())));
        } else if (e.type === 'symlink') pack.entry({ ...header, type: 'symlink', linkname: e.source });
        else pack.entry({ ...header, type: 'directory' });
      }
      pack.finalize();
    } catch (err) {
      pack.destroy(err instanceof Error ? err : new Error(String(err)));
    }
  })();
  const gzip = createGzip();
  pack.on('error', (err) => gzip.destroy(err));
  return pack.pipe(gzip);
}
