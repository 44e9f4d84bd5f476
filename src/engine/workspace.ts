/**
 * A build's scratch folder under the cache directory: the mount point of the image root, overlayfs
 * work folders, store entries under construction and the build log. A build holds a lock on
 * `<name>.lock` while it lives; the next build removes every folder whose lock nobody holds, which
 * is how a build killed with SIGKILL is cleaned up (its mounts already died with its namespace).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isLocked, lock } from '../host/lock.js';
import { removeTree } from '../store/store.js';

export interface Workspace {
  dir: string;
  /** Mount point of the image root. */
  root: string;
  /** Store entries being built: renamed into the store when complete. */
  entries: string;
  /** Per-stage scratch folders and overlayfs work folders. */
  scratch: string;
  remove(): Promise<void>;
}

export async function createWorkspace(cache: string): Promise<Workspace> {
  const builds = join(cache, 'builds');
  await mkdir(builds, { recursive: true });
  removeAbandoned(builds);
  const name = `build-${randomBytes(6).toString('hex')}`;
  // Locked before the folder exists, so no other build ever sees it unlocked.
  const held = await lock(join(builds, `${name}.lock`));
  const dir = join(builds, name);
  const ws = { dir, root: join(dir, 'root'), entries: join(dir, 'entries'), scratch: join(dir, 'scratch') };
  await mkdir(ws.root, { recursive: true, mode: 0o755 });
  await mkdir(ws.entries);
  await mkdir(ws.scratch);
  return {
    ...ws,
    remove: async () => {
      removeTree(dir);
      rmSync(`${dir}.lock`, { force: true });
      await held.release();
    },
  };
}

export function removeAbandoned(builds: string): void {
  if (!existsSync(builds)) return;
  const names = new Set(readdirSync(builds).map((name) => name.replace(/\.lock$/, '')));
  for (const base of names) {
    if (!base.startsWith('build-') || isLocked(join(builds, `${base}.lock`))) continue;
    removeTree(join(builds, base));
    rmSync(join(builds, `${base}.lock`), { force: true });
  }
}
