/** Reads what an SBOM says from an image root tree: the dpkg database, os-release, copyright files. */
import { readFile, realpath } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseStatus, type DpkgPackage } from './dpkg.js';
import { licenseOf } from './licenses.js';

export interface ImageContents {
  distro: { id: string; versionId: string };
  packages: (DpkgPackage & { license: string })[];
}

/** A file inside the root; a symlink that leads out of it (an absolute target) counts as missing. */
async function readInside(root: string, path: string): Promise<string | undefined> {
  try {
    const real = await realpath(join(root, path));
    if (relative(root, real).startsWith('..')) return undefined;
    return await readFile(real, 'utf8');
  } catch {
    return undefined;
  }
}

export async function readImage(root: string): Promise<ImageContents> {
  const status = await readInside(root, 'var/lib/dpkg/status');
  if (status === undefined) throw new Error('the image has no dpkg database (var/lib/dpkg/status)');
  const osRelease = Object.fromEntries(
    ((await readInside(root, 'etc/os-release')) ?? '')
      .split('\n')
      .map((line) => /^([A-Z_]+)=(.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], (m[2] ?? '').replace(/^"|"$/g, '')]),
  ) as Record<string, string>;
  const distro = { id: osRelease.ID ?? 'debian', versionId: osRelease.VERSION_ID ?? osRelease.VERSION_CODENAME ?? 'unknown' };
  const packages = await Promise.all(parseStatus(status).map(async (p) => ({ ...p, license: licenseOf(await readInside(root, `usr/share/doc/${p.name}/copyright`)) })));
  return { distro, packages };
}
