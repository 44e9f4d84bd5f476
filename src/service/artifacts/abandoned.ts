/**
 * Temporary files of uploads that never finished: a server killed mid-upload (SIGKILL, power)
 * leaves `.tmp-*` beside the artifacts and recipe bundles it was writing. They are never listed
 * (only renamed files are), but they hold disk space. The artifact folder may be shared by several
 * servers, so a file is removed only when nothing has written to it for an hour: a live upload
 * writes all the time, and a lease is lost long before an hour of silence.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

export const ABANDONED_AFTER_MS = 60 * 60 * 1000;

/** Removes `.tmp-*` files up to `depth` folders below `root` untouched for `ageMs`; returns their paths. */
export async function removeAbandonedUploads(root: string, now = Date.now(), ageMs = ABANDONED_AFTER_MS, depth = 2): Promise<string[]> {
  const removed: string[] = [];
  const walk = async (dir: string, level: number): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && level < depth) await walk(path, level + 1);
      else if (entry.isFile() && entry.name.startsWith('.tmp-')) {
        const info = await stat(path).catch(() => undefined);
        if (info && now - info.mtimeMs > ageMs) {
          await rm(path, { force: true });
          removed.push(path);
        }
      }
    }
  };
  await walk(root, 0);
  return removed;
}
