/**
 * Moves finished files into the output folder so that no output name ever holds a half-written
 * file: everything is written under a staging folder first and renamed into place one by one,
 * the record (build.json) last.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Exec } from '../stages/define.js';

export interface PublishedFile {
  file: string;
  format: string;
  size: number;
  sha256: string;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export class Staging {
  private constructor(
    readonly outputDir: string,
    readonly dir: string,
  ) {}

  static async open(outputDir: string): Promise<Staging> {
    await mkdir(outputDir, { recursive: true });
    for (const entry of await readdir(outputDir)) {
      if (entry.startsWith('.kiln-staging-')) await rm(join(outputDir, entry), { recursive: true, force: true });
    }
    const dir = join(outputDir, `.kiln-staging-${process.pid}`);
    await mkdir(dir);
    return new Staging(outputDir, dir);
  }

  /** Moves (or, across file systems, sparsely copies) a finished file into staging. */
  async take(exec: Exec, source: string, name: string, format: string): Promise<PublishedFile> {
    const target = join(this.dir, name);
    try {
      await rename(source, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      await exec('cp', ['--sparse=always', source, target]);
    }
    return { file: name, format, size: (await stat(target)).size, sha256: await sha256File(target) };
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
