/**
 * A build's scratch folder under the cache directory. It records its owner's pid, so the next build
 * removes folders of builds that were killed before they could clean up.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function cacheDir(): string {
  return process.env.KILN_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kiln');
}

export interface Workspace {
  dir: string;
  root: string;
  work: string;
  remove(): Promise<void>;
}

export async function createWorkspace(cache = cacheDir()): Promise<Workspace> {
  const builds = join(cache, 'builds');
  await mkdir(builds, { recursive: true });
  await removeAbandoned(builds);
  const dir = await mkdtemp(join(builds, 'build-'));
  await writeFile(join(dir, 'pid'), String(process.pid));
  const root = join(dir, 'root');
  const work = join(dir, 'work');
  await mkdir(root, { mode: 0o755 });
  await mkdir(work);
  return { dir, root, work, remove: () => rm(dir, { recursive: true, force: true }) };
}

async function removeAbandoned(builds: string): Promise<void> {
  for (const name of readdirSync(builds)) {
    const pidFile = join(builds, name, 'pid');
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : 0;
    if (pid && alive(pid)) continue;
    await rm(join(builds, name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
