/**
 * The stage store: each finished stage's result, kept under its stage id in `<cache>/stages/<id>/`.
 *
 * - A tree stage's entry is an overlayfs upper layer (`tree/`): only what that stage changed. The
 *   root a later stage sees is the stack of its predecessors' layers, mounted, never copied.
 * - An image stage's entry holds the files it made (`files/`).
 * - `meta.json` says which stage and recipe made it, when, how long it took, its size, and the facts
 *   later stages need; `used` is touched whenever a build reuses the entry (for LRU pruning).
 *
 * Entries are built inside a build's workspace and renamed into place complete, so a reader never
 * sees a partial entry: a build killed at any moment leaves only its workspace, which the next build
 * removes. Builds hold the store lock shared; prune and trash-emptying hold it exclusive.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildError } from '../errors.js';
import { performance } from 'node:perf_hooks';
import type { JsonObject as Facts } from '../host/canonical.js';
import { contentsText, recordEntry, type PathRecord } from './entry-hashes.js';
import { lock, tryLock, type Lock, type LockOptions } from '../host/lock.js';

export interface EntryMeta {
  id: string;
  stage: string;
  kind: 'tree' | 'image';
  /** The id of the stage this one started from. */
  input: string | null;
  recipe: { name: string; file: string };
  created: string;
  seconds: number;
  bytes: number;
  /** Facts of this stage and every stage before it. */
  facts: Facts;
  /** The content manifest (`contents.jsonl`) recorded at commit; absent in entries of older kilns. */
  contents?: ContentsSummary;
}

export interface ContentsSummary {
  /** sha256 of contents.jsonl, so the manifest itself cannot change unnoticed. */
  sha256: string;
  paths: number;
  /** Bytes of regular-file content hashed. */
  bytes: number;
  /** What recording it cost this build. */
  seconds: number;
}

/** Every path of an entry with its metadata and content hash (entry-hashes.ts). */
export const CONTENTS = 'contents.jsonl';

export interface ListedEntry extends EntryMeta {
  lastUsed: Date;
}

export class Store {
  readonly stages: string;
  readonly packages: string;

  constructor(readonly dir: string) {
    this.stages = join(dir, 'stages');
    this.packages = join(dir, 'packages');
  }

  /** Entries are folders named by the hex digest (no `sha256:`: overlayfs splits its options at colons). */
  entryDir(id: string): string {
    return join(this.stages, folderOf(id));
  }

  treeOf(id: string): string {
    return join(this.entryDir(id), 'tree');
  }

  filesOf(id: string): string {
    return join(this.entryDir(id), 'files');
  }

  async get(id: string): Promise<EntryMeta | undefined> {
    try {
      return JSON.parse(await readFile(join(this.entryDir(id), 'meta.json'), 'utf8')) as EntryMeta;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      // A damaged entry is the machine's problem, not a bug in kiln: say how to clear it.
      if (err instanceof SyntaxError) throw new BuildError(`the stored stage ${folderOf(id).slice(0, 12)} is damaged (meta.json: ${err.message}); run kiln cache verify --repair to move it away`);
      throw err;
    }
  }

  /**
   * Moves a finished entry (a folder with `tree/` or `files/`) into the store. An entry it replaces
   * (a forced rebuild) goes to the trash, and so does everything built on top of the old one: a
   * layer is only valid on the very layers it was made on.
   */
  async commit(built: string, meta: EntryMeta): Promise<void> {
    const top = meta.kind === 'tree' ? 'tree' : 'files';
    const t = performance.now();
    const records = await recordEntry(built, top);
    const text = contentsText(records);
    await writeFile(join(built, CONTENTS), text);
    if (top === 'files') await seedDerived(built, records);
    const contents = { sha256: createHash('sha256').update(text).digest('hex'), paths: records.length, bytes: records.reduce((sum, r) => sum + (r.size ?? 0), 0), seconds: Math.round(performance.now() - t) / 1000 };
    await writeFile(join(built, 'meta.json'), `${JSON.stringify({ ...meta, contents }, null, 2)}\n`);
    await writeFile(join(built, 'used'), '');
    await mkdir(this.stages, { recursive: true });
    if (existsSync(this.entryDir(meta.id))) await this.removeWithDependents(meta.id);
    await rename(built, this.entryDir(meta.id));
  }

  /**
   * Trashes an entry and every entry stacked on it (a layer is only valid on the very layers it
   * was made on), the topmost first: a build killed half-way leaves no entry whose input is gone,
   * which a later build would stack on a remade input.
   */
  async removeWithDependents(id: string): Promise<string[]> {
    const all = await this.list();
    const doomed = [id];
    for (let grew = true; grew; ) {
      grew = false;
      for (const e of all) {
        if (e.input && doomed.includes(e.input) && !doomed.includes(e.id)) {
          doomed.push(e.id);
          grew = true;
        }
      }
    }
    for (const gone of [...doomed].reverse()) await this.remove(gone);
    return doomed;
  }

  async touch(id: string): Promise<void> {
    const now = new Date();
    await utimes(join(this.entryDir(id), 'used'), now, now).catch(() => undefined);
  }

  async list(): Promise<ListedEntry[]> {
    const names = existsSync(this.stages) ? await readdir(this.stages) : [];
    const out: ListedEntry[] = [];
    for (const name of names.filter((n) => /^[0-9a-f]{64}$/.test(n))) {
      // A damaged meta.json is `kiln cache verify`'s to report; listing goes on without it.
      const meta = await this.get(`sha256:${name}`).catch(() => undefined);
      if (!meta) continue;
      const used = await stat(join(this.stages, name, 'used')).catch(() => undefined);
      out.push({ ...meta, lastUsed: used?.mtime ?? new Date(meta.created) });
    }
    return out;
  }

  /** Removes an entry (into the trash: a running build may have it mounted). */
  async remove(id: string): Promise<void> {
    if (existsSync(this.entryDir(id))) await this.trash(this.entryDir(id));
  }

  private async trash(path: string): Promise<void> {
    const bin = join(this.stages, '.trash');
    await mkdir(bin, { recursive: true });
    await rename(path, join(bin, `${Date.now()}-${Math.random().toString(36).slice(2)}`));
  }

  /** Empties the trash; only call with the store lock held exclusively (no build running). */
  emptyTrash(): void {
    removeTree(join(this.stages, '.trash'));
  }

  /** Held by every build, shared: prune takes it exclusively, so it never pulls a layer from under a build. */
  use(options: LockOptions = {}): Promise<Lock> {
    return lock(join(this.dir, 'store.lock'), { shared: true, ...options });
  }

  exclusive(options: LockOptions = {}): Promise<Lock> {
    return lock(join(this.dir, 'store.lock'), options);
  }

  /** Empties the trash if no build is running (nobody can have a trashed layer mounted then). */
  async tidy(): Promise<void> {
    const alone = await tryLock(join(this.dir, 'store.lock'));
    if (!alone) return;
    try {
      this.emptyTrash();
    } finally {
      await alone.release();
    }
  }

  /**
   * Text derived from an image entry's files (a sha256, a block map), computed once and kept
   * beside the entry; `name` may be a path inside the entry's files.
   */
  async derived(id: string, name: string, compute: () => Promise<string>): Promise<string> {
    const folder = join(this.entryDir(id), 'derived');
    const file = join(folder, derivedName(name));
    const known = await readFile(file, 'utf8').catch(() => undefined);
    if (known !== undefined) return known;
    const text = await compute();
    await mkdir(folder, { recursive: true });
    const temp = `${file}.${process.pid}-${Date.now()}`;
    await writeFile(temp, text);
    await rename(temp, file);
    return text;
  }

  /** One build makes an entry at a time; a second build of the same stage waits and reuses it. */
  lockEntry(id: string, options: LockOptions = {}): Promise<Lock> {
    return lock(join(this.dir, 'locks', `${folderOf(id)}.lock`), options);
  }
}

/**
 * The sha256 of each file an image entry made, where publishing looks for it (`derived`): the
 * manifest has just hashed them, so an unchanged output is never hashed a second time.
 */
async function seedDerived(built: string, records: readonly PathRecord[]): Promise<void> {
  const files = records
    .filter((r) => r.type === 'file' && r.sha256)
    .map((r) => ({ name: derivedName(`${r.path.slice('files/'.length)}.sha256`), sha256: r.sha256 ?? '' }))
    // A path too long to be one file name is deep in a folder (a deployed sysroot), never an output.
    .filter((f) => Buffer.byteLength(f.name) <= NAME_MAX);
  if (!files.length) return;
  await mkdir(join(built, 'derived'), { recursive: true });
  for (const f of files) await writeFile(join(built, 'derived', f.name), f.sha256);
}

/** The longest file name Linux file systems take. */
const NAME_MAX = 255;

/** The file under `derived/` that holds the text derived as `name`. */
export function derivedName(name: string): string {
  return encodeURIComponent(name);
}

export function folderOf(id: string): string {
  return id.replace(/^sha256:/, '');
}

/** Bytes a folder takes on disk (allocated blocks: sparse images count what they use). */
export function diskUsage(path: string): number {
  const result = spawnSync('du', ['-s', '-B1', '--one-file-system', path], { encoding: 'utf8' });
  return Number(result.stdout.split('\t')[0]) || 0;
}

/**
 * `rm -rf --one-file-system`: a folder that still had something mounted inside (it should not)
 * must never lead rm into the host's /dev or /sys through a bind mount.
 */
export function removeTree(path: string): void {
  if (!existsSync(path)) return;
  const result = spawnSync('rm', ['-rf', '--one-file-system', path], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`could not remove ${path}: ${result.stderr.trim()}`);
}
