/** The installed packages of an image root, read from its dpkg database by the host's dpkg-query. */
import { join } from 'node:path';
import type { Exec } from '../host/exec.js';

export interface InstalledPackage {
  name: string;
  version: string;
  arch: string;
  /** Who asked for it: "recipe", layer names, "kiln" (a bootable image needs it); none for dependencies. */
  layers: string[];
}

export async function installedPackages(exec: Exec, root: string, askedBy: Record<string, string[]>): Promise<InstalledPackage[]> {
  const { stdout } = await exec('dpkg-query', [`--admindir=${join(root, 'var/lib/dpkg')}`, '--show', '--showformat=${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\n']);
  return stdout
    .split('\n')
    .map((line) => line.split('\t'))
    .filter((f) => f[0]?.startsWith('ii'))
    .map(([, name = '', version = '', arch = '']) => ({ name, version, arch, layers: askedBy[name] ?? [] }))
    .sort((a, b) => a.name.localeCompare(b.name));
}
