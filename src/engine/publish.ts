/**
 * Moves finished files into the output folder so that no output name ever holds a half-written
 * file: everything is written under a staging folder first and renamed into place one by one,
 * the record (build.json) last.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { bmapXml } from '../outputs/bmap.js';
import type { Exec } from '../host/exec.js';
import type { Facts, OutputFile } from '../stages/facts.js';
import type { Store } from '../store/store.js';
import type { PublishedFile } from './build-record.js';
import { isLocked } from '../host/lock.js';
import { digestFile, sha256File, type ImageDigest } from '../host/sparse-hash.js';

const PREFIX = '.kiln-staging-';

export class Staging {
  private constructor(
    readonly outputDir: string,
    readonly dir: string,
  ) {}

  /**
   * Staging is named after the build's workspace: one left by a killed build (its workspace lock is
   * free) is removed, one of a build still running beside this one is left alone.
   */
  static async open(outputDir: string, workspace: string): Promise<Staging> {
    await mkdir(outputDir, { recursive: true });
    for (const entry of await readdir(outputDir)) {
      if (!entry.startsWith(PREFIX)) continue;
      // No lock file: its build is gone (checking would create one, flock(1) makes the file it locks).
      const lock = join(dirname(workspace), `${entry.slice(PREFIX.length)}.lock`);
      if (!existsSync(lock) || !isLocked(lock)) await rm(join(outputDir, entry), { recursive: true, force: true });
    }
    const dir = join(outputDir, `${PREFIX}${basename(workspace)}`);
    await mkdir(dir);
    return new Staging(outputDir, dir);
  }

  /** Copies a finished file (kept in the store) into staging, sparse, reflinked where possible; returns its size. */
  async copyIn(exec: Exec, source: string, name: string): Promise<number> {
    const target = join(this.dir, name);
    await exec('cp', ['--sparse=always', '--reflink=auto', source, target]);
    return (await stat(target)).size;
  }

  async write(name: string, content: string): Promise<void> {
    await writeFile(join(this.dir, name), content);
  }

  async copy(source: string, name: string): Promise<void> {
    await copyFile(source, join(this.dir, name));
  }

  /** Renames every staged file into the output folder, `last` after all others. */
  async commit(last: string): Promise<void> {
    const names = (await readdir(this.dir)).filter((n) => n !== last);
    for (const name of [...names, last]) await rename(join(this.dir, name), join(this.outputDir, basename(name)));
    await this.discard();
  }

  async discard(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** The outputs stage lists its files; without one, the disk image is the only output, with its block map. */
export function outputsOf(facts: Facts): OutputFile[] {
  if (facts.outputs) return facts.outputs;
  if (facts.image === undefined) throw new Error('no disk image was made');
  return [{ file: facts.image, format: 'raw' }, { file: `${facts.image}.bmap`, format: 'bmap' }];
}

/**
 * Copies one output from the store into staging, with its sha256 (kept in the store, so an
 * unchanged image is never hashed twice). A disk image's block map comes from the same pass over
 * the image as its hash. A folder (the OCI layout) lists every file in SHA256SUMS; its record
 * carries the sha256 of its index.json, which names every blob by digest.
 */
export async function publishOutput(exec: Exec, store: Store, staging: Staging, entry: string, output: OutputFile): Promise<{ record: PublishedFile; sums: string[] }> {
  const source = join(store.filesOf(entry), output.file);
  if (output.format === 'bmap' && !existsSync(source)) {
    await staging.write(output.file, (await imageDigest(store, entry, output.file.replace(/\.bmap$/, ''))).bmap);
    const sha256 = await sha256File(join(staging.dir, output.file));
    return { record: { file: output.file, format: 'bmap', size: (await stat(join(staging.dir, output.file))).size, sha256 }, sums: [`${sha256}  ${output.file}\n`] };
  }
  if ((await stat(source)).isDirectory()) {
    await exec('cp', ['-a', source, join(staging.dir, output.file)]);
    const files = (await readdir(source, { recursive: true, withFileTypes: true })).filter((d) => d.isFile()).map((d) => relative(store.filesOf(entry), join(d.parentPath, d.name))).sort();
    const sums = await Promise.all(files.map(async (f) => `${await store.derived(entry, `${f}.sha256`, () => sha256File(join(store.filesOf(entry), f)))}  ${f}\n`));
    const size = (await Promise.all(files.map(async (f) => (await stat(join(store.filesOf(entry), f))).size))).reduce((a, b) => a + b, 0);
    const index = sums.find((line) => line.endsWith(`${output.file}/index.json\n`))?.slice(0, 64) ?? '';
    return { record: { file: output.file, format: output.format, size, sha256: index }, sums };
  }
  const hash = output.file.endsWith('.raw') ? imageDigest(store, entry, output.file).then((d) => d.sha256) : store.derived(entry, `${output.file}.sha256`, () => sha256File(source));
  // Two cores: the copy (mostly writing) and the hash (mostly computing) run side by side.
  const [sha256, size] = await Promise.all([hash, staging.copyIn(exec, source, output.file)]);
  return { record: { file: output.file, format: output.format, size, sha256 }, sums: [`${sha256}  ${output.file}\n`] };
}

/** A raw image's sha256 and block map, from one pass over it, each kept in the store. */
async function imageDigest(store: Store, entry: string, file: string): Promise<{ sha256: string; bmap: string }> {
  let digest: Promise<ImageDigest> | undefined;
  const once = () => (digest ??= digestFile(join(store.filesOf(entry), file)));
  const sha256 = await store.derived(entry, `${file}.sha256`, async () => (await once()).sha256);
  const bmap = await store.derived(entry, `${file}.bmap`, async () => bmapXml(await once()));
  return { sha256, bmap };
}
