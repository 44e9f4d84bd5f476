/**
 * What a Debian mirror says about a release: its Release file's Codename and Suite, or, when it has
 * no such release, which releases its dists/ does have. A release found is remembered for an hour
 * in the cache folder, so a matrix or a rebuild does not ask again.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type MirrorAnswer =
  | { found: true; codename: string; suite: string }
  | { found: false; url: string; status: number; has: string[] }
  /** No answer (network down, timeout): the check is left to the bootstrap stage, if it runs at all. */
  | { unreachable: string };

const TTL_MS = 60 * 60 * 1000;

export function releaseUrl(mirror: string, release: string): string {
  return `${mirror.replace(/\/+$/, '')}/dists/${release}/Release`;
}

/** The Codename and Suite fields of a Release file. */
export function parseRelease(text: string): { codename: string; suite: string } {
  const field = (name: string) => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(text)?.[1] ?? '';
  return { codename: field('Codename'), suite: field('Suite') };
}

/** Release names in a dists/ folder listing (an HTML index): codenames and aliases, not -updates etc. */
export function parseDists(html: string): string[] {
  const names = [...html.matchAll(/href="([a-z][a-z0-9]*)\/"/g)].map((m) => m[1] ?? '');
  return [...new Set(names)].filter((n) => n !== '' && !['by-hash'].includes(n)).sort();
}

export async function askMirror(mirror: string, release: string, cacheDir: string | undefined, signal?: AbortSignal): Promise<MirrorAnswer> {
  const key = `${mirror} ${release}`;
  const file = cacheDir === undefined ? undefined : join(cacheDir, 'mirror-releases.json');
  const cached = file ? readCache(file)[key] : undefined;
  if (cached && Date.now() - cached.at < TTL_MS) return cached.answer;
  const answer = await ask(mirror, release, signal);
  // Only a release that exists is remembered: a mirror that gains one is believed at once.
  if (file && 'found' in answer && answer.found) writeCache(file, key, answer);
  return answer;
}

async function ask(mirror: string, release: string, signal?: AbortSignal): Promise<MirrorAnswer> {
  const url = releaseUrl(mirror, release);
  if (url.startsWith('file://')) {
    const path = new URL(url);
    if (existsSync(path)) return { found: true, ...parseRelease(readFileSync(path, 'utf8')) };
    const dists = new URL(`${mirror.replace(/\/+$/, '')}/dists/`);
    return { found: false, url, status: 404, has: existsSync(dists) ? readdirSync(dists).sort() : [] };
  }
  const timeout = AbortSignal.timeout(20000);
  const within = signal ? AbortSignal.any([signal, timeout]) : timeout;
  try {
    const response = await fetch(url, { signal: within });
    if (response.ok) return { found: true, ...parseRelease(await response.text()) };
    if (response.status !== 404) return { unreachable: `${url}: HTTP ${response.status}` };
    const listing = await fetch(`${mirror.replace(/\/+$/, '')}/dists/`, { signal: within }).catch(() => undefined);
    const has = listing?.ok ? parseDists(await listing.text()) : [];
    return { found: false, url, status: 404, has };
  } catch (err) {
    if (signal?.aborted) throw err;
    return { unreachable: err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err) };
  }
}

type Cache = Record<string, { at: number; answer: MirrorAnswer }>;

function readCache(file: string): Cache {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Cache;
  } catch {
    return {};
  }
}

function writeCache(file: string, key: string, answer: MirrorAnswer): void {
  try {
    mkdirSync(join(file, '..'), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ ...readCache(file), [key]: { at: Date.now(), answer } }));
    renameSync(tmp, file);
  } catch {
    // A cache that cannot be written only means asking again next time.
  }
}
