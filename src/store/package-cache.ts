/**
 * The machine's shared .deb cache (`<cache>/packages`). Before apt downloads anything, the setup
 * hook fetches the package index with mmdebstrap's own apt configuration (apt verifies it against
 * the signed InRelease file) and hard-links into the new root's /var/cache/apt/archives only the
 * cached .debs whose SHA256 matches that index (verify-debs.ts). apt would take any file there of
 * the right size, so this check is what keeps a corrupted or foreign .deb out. Afterwards the
 * packages apt downloaded are moved into the cache (rename: atomic, so a concurrent build sees a
 * whole file or none).
 */
import { existsSync, readdirSync } from 'node:fs';
import { lstat, mkdir, readFile, rename, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256File } from '../host/sparse-hash.js';
import { debOfFileName, type LockedDeb } from '../lockfile/lockfile.js';
import { quote } from '../host/shell.js';
import { paragraphs, parseStatus, type DpkgPackage } from '../sbom/dpkg.js';
import { aptListsCache } from './apt-lists.js';
import { archiveName, linkVerified } from './verify-debs.js';

const ARCHIVES = '"$1/var/cache/apt/archives"';

const VERIFY = fileURLToPath(new URL('./verify-debs.js', import.meta.url));
const APT_LISTS = fileURLToPath(new URL('./apt-lists.js', import.meta.url));

/**
 * mmdebstrap options: link verified cached .debs in before apt runs, link what apt had out before
 * cleanup. The update runs with the package lists kept from earlier builds (apt-lists.ts).
 */
export function packageCacheArgs(cache: string, arch: string, out: string): string[] {
  const node = quote(process.execPath);
  const update = `${node} ${quote(APT_LISTS)} ${quote(aptListsCache(cache))} ${quote(arch)} "$1" apt-get update -q`;
  return [
    // Keep the essential packages' .debs until the end, so they can be collected too.
    '--skip=essential/unlink',
    `--setup-hook=APT_CONFIG="$MMDEBSTRAP_APT_CONFIG" ${update} >/dev/null && mkdir -p ${ARCHIVES} && ${node} ${quote(VERIFY)} ${quote(cache)} ${ARCHIVES} "$1/var/lib/apt/lists"`,
    `--customize-hook=find ${ARCHIVES} -maxdepth 1 -name '*.deb' -exec cp -al -t ${quote(out)} {} +`,
  ];
}

/** The folder of native toolboxes for foreign builds (stages/native-tools.ts), beside the package cache. */
export function nativeToolboxes(packageCache: string): string {
  return join(dirname(packageCache), 'native');
}

/**
 * The same check for a root that already exists (the packages stage), in kiln's own process: run
 * after apt's update. The .debs of the versions the root has installed (`installed`, its dpkg
 * status) are not checked or linked: apt installs none of them again.
 */
export async function linkCachedDebs(cache: string, archives: string, lists: string, installed: readonly DpkgPackage[], log: (line: string) => void): Promise<void> {
  const skip = new Set(installed.map((p) => archiveName(p.name, p.version, p.arch)));
  const { linked, refused } = await linkVerified(cache, archives, lists, skip);
  for (const line of refused) log(line);
  log(`the package cache: ${linked} cached .debs match the signed package index (those of the ${installed.length} packages installed already not checked)`);
}

/** The root's installed packages, from its dpkg status (none when it has no status yet). */
export async function dpkgStatusOf(root: string): Promise<DpkgPackage[]> {
  return parseStatus(await readFile(join(root, 'var/lib/dpkg/status'), 'utf8').catch(() => ''));
}

/** The root's installed packages, as debKey strings. */
export async function installedKeys(root: string): Promise<Set<string>> {
  return new Set((await dpkgStatusOf(root)).map(debKey));
}

/** What apt installed only as a dependency, from the root's extended_states: kiln.lock keeps it. */
export async function autoInstalled(root: string): Promise<string[]> {
  const states = await readFile(join(root, 'var/lib/apt/extended_states'), 'utf8').catch(() => '');
  return paragraphs(states)
    .filter((p) => p.get('auto-installed') === '1')
    .map((p) => p.get('package') ?? '')
    .sort();
}

export interface CacheUse {
  reused: number;
  downloaded: number;
  downloadedBytes: number;
  /** Every .deb the build installed, for kiln.lock. */
  debs: LockedDeb[];
}

/** `name version arch`, the key collectPackages matches installed packages by. */
export function debKey(deb: { name: string; version: string; arch: string }): string {
  return `${deb.name} ${deb.version} ${deb.arch}`;
}

/**
 * Sorts the collected .debs: the cache's own files (same inode) were reused, the rest downloaded.
 * Only those in `installed` (debKey of the root's dpkg status) count and enter the lock: the setup
 * hook links in every cached .deb the index vouches for, including other recipes' packages this
 * root never installed.
 */
export async function collectPackages(out: string, cache: string, installed: ReadonlySet<string>): Promise<CacheUse> {
  await mkdir(cache, { recursive: true });
  const use: CacheUse = { reused: 0, downloaded: 0, downloadedBytes: 0, debs: [] };
  const now = new Date();
  for (const name of existsSync(out) ? readdirSync(out).filter((n) => n.endsWith('.deb')).sort() : []) {
    const deb = debOfFileName(name);
    const got = await lstat(join(out, name));
    const cached = await lstat(join(cache, name)).catch(() => undefined);
    const used = deb !== undefined && installed.has(debKey(deb));
    if (cached && cached.ino === got.ino && cached.dev === got.dev) {
      if (!used) continue;
      use.reused++;
      // The last-used time `kiln cache prune` goes by.
      await utimes(join(cache, name), now, now);
    } else {
      use.downloaded++;
      use.downloadedBytes += got.size;
      await rename(join(out, name), join(cache, name));
      if (!used) continue;
    }
    if (deb) use.debs.push({ ...deb, sha256: await sha256File(join(cache, name)) });
  }
  return use;
}
