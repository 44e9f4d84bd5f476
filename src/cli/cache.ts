/** `kiln cache list`, `prune` and `verify`: what the store holds, making room, and checking it. */
import { existsSync, lstatSync, readdirSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { removeAbandoned } from '../engine/workspace.js';
import { choosePrune, type CacheItem } from '../store/prune.js';
import { folderOf, Store, type ListedEntry } from '../store/store.js';
import { repair, verifyStore } from '../store/verify-store.js';
import { aptListsCache } from '../store/apt-lists.js';
import { nativeToolboxes } from '../store/package-cache.js';

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit ? value.toFixed(1) : value} ${units[unit] ?? ''}`;
}

function age(since: Date, now: Date): string {
  const s = Math.max(0, (now.getTime() - since.getTime()) / 1000);
  if (s < 90) return `${Math.round(s)}s`;
  if (s < 5400) return `${Math.round(s / 60)}m`;
  if (s < 129600) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

function packageItems(store: Store): CacheItem[] {
  if (!existsSync(store.packages)) return [];
  return readdirSync(store.packages)
    .filter((n) => n.endsWith('.deb'))
    .map((name) => {
      const stat = statSync(join(store.packages, name));
      return { key: name, kind: 'package' as const, bytes: stat.blocks * 512, lastUsed: stat.mtime };
    });
}

/** The kept apt package lists, one item per set of sources; used when a build last kept or read them. */
function listsItems(store: Store): CacheItem[] {
  const folder = aptListsCache(store.packages);
  if (!existsSync(folder)) return [];
  return readdirSync(folder).map((name) => {
    const files = readdirSync(join(folder, name)).map((f) => statSync(join(folder, name, f)));
    return { key: name, kind: 'lists' as const, bytes: files.reduce((sum, f) => sum + f.blocks * 512, 0), lastUsed: statSync(join(folder, name)).mtime };
  });
}

/** The native toolboxes for foreign builds, one item each; used when a build last made or took it. */
function nativeItems(store: Store): CacheItem[] {
  const folder = nativeToolboxes(store.packages);
  if (!existsSync(folder)) return [];
  return readdirSync(folder).map((name) => {
    const files = readdirSync(join(folder, name), { recursive: true, encoding: 'utf8' }).map((f) => lstatSync(join(folder, name, f)));
    return { key: name, kind: 'native' as const, bytes: files.reduce((sum, f) => sum + f.blocks * 512, 0), lastUsed: statSync(join(folder, name)).mtime };
  });
}

function stageItems(entries: ListedEntry[]): CacheItem[] {
  return entries.map((e) => ({ key: e.id, kind: 'stage' as const, bytes: e.bytes, lastUsed: e.lastUsed, input: e.input }));
}

export async function listCache(store: Store, json: boolean, now = new Date()): Promise<string> {
  const entries = (await store.list()).sort((a, b) => a.recipe.file.localeCompare(b.recipe.file) || a.created.localeCompare(b.created));
  const packages = packageItems(store);
  const packageBytes = packages.reduce((sum, p) => sum + p.bytes, 0);
  if (json) return `${JSON.stringify({ dir: store.dir, stages: entries, packages: { count: packages.length, bytes: packageBytes } }, null, 2)}\n`;
  const rows = [['ID', 'STAGE', 'SIZE', 'CREATED', 'USED', 'RECIPE']];
  for (const e of entries) rows.push([folderOf(e.id).slice(0, 12), e.stage, formatBytes(e.bytes), `${age(new Date(e.created), now)} ago`, `${age(e.lastUsed, now)} ago`, `${e.recipe.name} (${e.recipe.file})`]);
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  const table = rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
  const stageBytes = entries.reduce((sum, e) => sum + e.bytes, 0);
  return [
    entries.length ? table : '(no stage entries)',
    '',
    `stages:   ${entries.length} entries, ${formatBytes(stageBytes)}`,
    `packages: ${packages.length} .debs, ${formatBytes(packageBytes)}`,
    `store:    ${store.dir}`,
    '',
  ].join('\n');
}

export interface PruneRequest {
  maxBytes?: number;
  olderThanMs?: number;
  /** Called if a build is running and prune has to wait for it. */
  onWait: () => void;
  signal: AbortSignal;
}

/** Removes what the policy picks, with the store locked: no build can be using a layer meanwhile. */
export async function pruneCache(store: Store, request: PruneRequest): Promise<string> {
  const held = await store.exclusive({ onWait: request.onWait, signal: request.signal });
  try {
    removeAbandoned(join(store.dir, 'builds'));
    const entries = await store.list();
    const items = [...stageItems(entries), ...packageItems(store), ...listsItems(store), ...nativeItems(store)];
    const chosen = choosePrune(items, { now: new Date(), maxBytes: request.maxBytes, olderThanMs: request.olderThanMs });
    let bytes = 0;
    for (const item of items.filter((i) => chosen.has(i.key))) {
      bytes += item.bytes;
      if (item.kind === 'stage') await store.remove(item.key);
      else if (item.kind === 'lists') await rm(join(aptListsCache(store.packages), item.key), { recursive: true, force: true });
      else if (item.kind === 'native') await rm(join(nativeToolboxes(store.packages), item.key), { recursive: true, force: true });
      else await rm(join(store.packages, item.key), { force: true });
    }
    store.emptyTrash();
    const left = items.filter((i) => !chosen.has(i.key)).reduce((sum, i) => sum + i.bytes, 0);
    const count = (kind: CacheItem['kind']) => items.filter((i) => i.kind === kind && chosen.has(i.key)).length;
    const others = (count('lists') ? `, ${count('lists')} sets of package lists` : '') + (count('native') ? `, ${count('native')} native toolboxes` : '');
    return `removed ${count('stage')} stage entries and ${count('package')} packages${others} (${formatBytes(bytes)}); ${formatBytes(left)} left in ${store.dir}\n`;
  } finally {
    await held.release();
  }
}

export interface VerifyRequest {
  json: boolean;
  /** Move corrupt entries (and what was built on them) to the trash, delete corrupt .debs. */
  repair: boolean;
  signal: AbortSignal;
}

/**
 * Checks every entry against the manifest recorded when it was stored, and the cached .debs.
 * Holds the store lock shared, like a build: prune cannot remove entries under it, and a
 * repaired entry goes to the trash, which is only emptied when no build has it mounted.
 */
export async function verifyCache(store: Store, request: VerifyRequest): Promise<{ text: string; corrupt: boolean }> {
  const held = await store.use({ signal: request.signal });
  try {
    const report = await verifyStore(store);
    const corrupt = report.corrupt.length + report.corruptDebs.length > 0;
    const repaired = request.repair && corrupt ? await repair(store, report) : undefined;
    if (request.json) return { text: `${JSON.stringify({ dir: store.dir, ...report, ...(repaired ? { repaired } : {}) }, null, 2)}\n`, corrupt };
    const lines = report.problems.map((p) => `${p.stage === 'package cache' ? 'corrupt package' : `corrupt entry ${p.subject} (${p.stage})`}: ${p.file}: ${p.message}`);
    const unverified = report.unverified.length ? `, ${report.unverified.length} unverified (stored by a kiln that recorded no hashes)` : '';
    lines.push(`${report.entries} entries, ${report.corrupt.length} corrupt${unverified}; ${report.debs} .debs, ${report.corruptDebs.length} corrupt (${store.dir})`);
    if (repaired) lines.push(`repaired: moved ${repaired.entries.length} entries (the corrupt ones and those built on them) to the trash and deleted ${repaired.debs.length} .debs; the next build makes them again`);
    else if (corrupt) lines.push('run `kiln cache verify --repair` to remove them; the next build makes them again');
    return { text: `${lines.join('\n')}\n`, corrupt };
  } finally {
    await held.release();
  }
}
