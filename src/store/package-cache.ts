/**
 * The machine's shared .deb cache (`<cache>/packages`). Before apt runs, every cached .deb is
 * hard-linked into the new root's /var/cache/apt/archives; apt uses a file there only if its
 * SHA256 matches the package index, whose own hashes come from the signed InRelease file, and
 * replaces it otherwise. So a cached file is never trusted by its name alone. Afterwards the
 * packages apt downloaded are moved into the cache (rename: atomic, so a concurrent build sees a
 * whole file or none).
 */
import { existsSync, readdirSync } from 'node:fs';
import { lstat, mkdir, rename, utimes } from 'node:fs/promises';
import { join } from 'node:path';

const ARCHIVES = '"$1/var/cache/apt/archives"';

function quote(path: string): string {
  return `'${path.replace(/'/g, `'\\''`)}'`;
}

/** mmdebstrap options: link the cache in before apt runs, link what apt had out before cleanup. */
export function packageCacheArgs(cache: string, out: string): string[] {
  const link = (from: string, to: string) => `find ${from} -maxdepth 1 -name '*.deb' -exec cp -al -t ${to} {} +`;
  return [
    // Keep the essential packages' .debs until the end, so they can be collected too.
    '--skip=essential/unlink',
    `--setup-hook=mkdir -p ${ARCHIVES} && ${link(quote(cache), ARCHIVES)}`,
    `--customize-hook=${link(ARCHIVES, quote(out))}`,
  ];
}

export interface CacheUse {
  reused: number;
  downloaded: number;
  downloadedBytes: number;
}

/** Sorts the collected .debs: the cache's own files (same inode) were reused, the rest downloaded. */
export async function collectPackages(out: string, cache: string): Promise<CacheUse> {
  await mkdir(cache, { recursive: true });
  const use: CacheUse = { reused: 0, downloaded: 0, downloadedBytes: 0 };
  const now = new Date();
  for (const name of existsSync(out) ? readdirSync(out).filter((n) => n.endsWith('.deb')).sort() : []) {
    const got = await lstat(join(out, name));
    const cached = await lstat(join(cache, name)).catch(() => undefined);
    if (cached && cached.ino === got.ino && cached.dev === got.dev) {
      use.reused++;
      // The last-used time `kiln cache prune` goes by.
      await utimes(join(cache, name), now, now);
    } else {
      use.downloaded++;
      use.downloadedBytes += got.size;
      await rename(join(out, name), join(cache, name));
    }
  }
  return use;
}
