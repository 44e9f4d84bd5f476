/**
 * Moves finished files into the output folder so that no output name ever holds a half-written
 * file: everything is written under a staging folder first and renamed into place one by one,
 * the record (build.json) last.
 */
import { copyFile, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isLocked } from './lock.js';
import type { Exec } from '../stages/define.js';

const PREFIX = '.kiln-staging-';

export interface PublishedFile {
  file: string;
  format: string;
  size: number;
  sha256: string;
}

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
      if (!isLocked(join(dirname(workspace), `${entry.slice(PREFIX.length)}.lock`))) await rm(join(outputDir, entry), { recursive: true, force: true });
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
