/**
 * apt's package lists, kept between builds beside the package cache (`<cache>/apt-lists/KEY/`,
 * KEY from the root's apt sources and architecture). A root gets the kept lists before
 * `apt-get update`, so apt fetches the signed InRelease and no index while the kept one matches
 * it (a diff when the mirror changed), instead of about 10 MB per bootstrap and packages stage.
 * apt checks the kept files against the signed InRelease as it would its own. After the update
 * the lists go back, one file at a time (copy, then rename: a concurrent build reads a whole file
 * or the older one, and apt refetches a file whose hash InRelease does not list).
 *   node apt-lists.js CACHE ARCH ROOT COMMAND...   (as an mmdebstrap hook: keep around COMMAND)
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, stat, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Where the lists are kept: beside the package cache (`<cache>/packages`). */
export function aptListsCache(packageCache: string): string {
  return join(dirname(packageCache), 'apt-lists');
}

/** The folder for a root: one per set of apt sources and architecture. */
export async function listsFolder(cache: string, arch: string, root: string): Promise<string> {
  const hash = createHash('sha256').update(`${arch}\n`);
  const etc = join(root, 'etc/apt');
  hash.update(await readFile(join(etc, 'sources.list'), 'utf8').catch(() => ''));
  const parts = join(etc, 'sources.list.d');
  for (const name of existsSync(parts) ? (await readdir(parts)).sort() : []) {
    if (name.endsWith('.list') || name.endsWith('.sources')) hash.update(`\n${name}\n${await readFile(join(parts, name), 'utf8')}`);
  }
  return join(cache, hash.digest('hex').slice(0, 32));
}

/** apt's state in the folder: its lock and downloads in progress stay behind. */
async function listFiles(folder: string): Promise<string[]> {
  const names = existsSync(folder) ? await readdir(folder) : [];
  const files: string[] = [];
  for (const name of names.filter((n) => n !== 'lock' && !n.startsWith('.'))) if ((await stat(join(folder, name))).isFile()) files.push(name);
  return files;
}

/** Copies a file with its modification time, which apt's If-Modified-Since requests are made from. */
async function copyKeepingTime(from: string, to: string): Promise<void> {
  const { atime, mtime } = await stat(from);
  await copyFile(from, to);
  await utimes(to, atime, mtime);
}

/** Puts the kept lists into the root's /var/lib/apt/lists; returns how many files. */
export async function seedLists(cache: string, arch: string, root: string): Promise<number> {
  const kept = await listsFolder(cache, arch, root);
  const lists = join(root, 'var/lib/apt/lists');
  await mkdir(lists, { recursive: true });
  const files = await listFiles(kept);
  for (const name of files) await copyKeepingTime(join(kept, name), join(lists, name));
  // The time `kiln cache prune` goes by.
  if (files.length) await utimes(kept, new Date(), new Date());
  return files.length;
}

/** Keeps the root's lists after an update; files the folder already has unchanged are skipped. */
export async function keepLists(cache: string, arch: string, root: string): Promise<void> {
  const kept = await listsFolder(cache, arch, root);
  const lists = join(root, 'var/lib/apt/lists');
  await mkdir(kept, { recursive: true });
  for (const name of await listFiles(lists)) {
    const now = await stat(join(lists, name));
    const old = await stat(join(kept, name)).catch(() => undefined);
    if (old && old.size === now.size && old.mtimeMs === now.mtimeMs) continue;
    // Not the pid: builds run in PID namespaces of their own, where two at once can have the same.
    const temp = join(kept, `.${name}.${randomBytes(6).toString('hex')}`);
    await copyKeepingTime(join(lists, name), temp);
    await rename(temp, join(kept, name));
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [cache, arch, root, command, ...args] = process.argv.slice(2);
  if (!cache || !arch || !root || !command) throw new Error('usage: apt-lists CACHE ARCH ROOT COMMAND...');
  await seedLists(cache, arch, root);
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.status === 0) await keepLists(cache, arch, root);
  process.exitCode = result.status ?? 1;
}
