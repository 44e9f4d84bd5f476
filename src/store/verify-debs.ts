/**
 * Links the cached .debs that the signed package index vouches for into a new root's apt archive
 * folder. apt itself would take any file there whose size matches; this checks each file's
 * SHA256 against the index apt just fetched (and verified against the signed InRelease file),
 * so a cached .deb is never trusted by its name alone. Runs as an mmdebstrap setup hook:
 *   node verify-debs.js CACHE ARCHIVES LISTS
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, linkSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** apt's file name for a package: epochs' colons are written %3a. */
export function archiveName(pkg: string, version: string, arch: string): string {
  return `${pkg}_${version.replace(/:/g, '%3a')}_${arch}.deb`;
}

/** File name → SHA256s from the text of Packages files. */
export function indexHashes(texts: string[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const text of texts) {
    for (const stanza of text.split(/\n\n+/)) {
      const field = (name: string) => new RegExp(`^${name}: *(.+)$`, 'm').exec(stanza)?.[1]?.trim();
      const [pkg, version, arch, sha] = [field('Package'), field('Version'), field('Architecture'), field('SHA256')];
      if (!pkg || !version || !arch || !sha) continue;
      const name = archiveName(pkg, version, arch);
      out.set(name, (out.get(name) ?? new Set()).add(sha.toLowerCase()));
    }
  }
  return out;
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function main(cache: string, archives: string, lists: string): Promise<void> {
  const index = indexHashes(readdirSync(lists).filter((n) => n.endsWith('_Packages')).map((n) => readFileSync(join(lists, n), 'utf8')));
  let linked = 0;
  for (const name of existsSync(cache) ? readdirSync(cache).filter((n) => index.has(n)) : []) {
    const sum = await sha256(join(cache, name));
    if (!index.get(name)?.has(sum)) {
      process.stdout.write(`kiln: not using cached ${name}: its SHA256 does not match the signed index\n`);
      continue;
    }
    if (!existsSync(join(archives, name))) linkSync(join(cache, name), join(archives, name));
    linked++;
  }
  process.stdout.write(`kiln: ${linked} cached .debs match the signed package index\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [cache, archives, lists] = process.argv.slice(2);
  if (!cache || !archives || !lists) throw new Error('usage: verify-debs CACHE ARCHIVES LISTS');
  await main(cache, archives, lists);
}
