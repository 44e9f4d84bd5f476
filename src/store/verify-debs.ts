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

/** The four fields of a Packages stanza the check needs, by the line prefix that starts each. */
const FIELDS = [
  ['Package:', 'pkg'],
  ['Version:', 'version'],
  ['Architecture:', 'arch'],
  ['SHA256:', 'sha'],
] as const;
const FIRST_LETTERS = new Set(FIELDS.map(([prefix]) => prefix.charCodeAt(0)));

/**
 * File name → SHA256s from the text of Packages files. A line scan, not a regex per field: a
 * release's index is about 56 MB and 68,000 stanzas, read on every build.
 */
export function indexHashes(texts: string[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const text of texts) {
    let stanza: Partial<Record<(typeof FIELDS)[number][1], string>> = {};
    const flush = () => {
      const { pkg, version, arch, sha } = stanza;
      if (pkg && version && arch && sha) {
        const name = archiveName(pkg, version, arch);
        out.set(name, (out.get(name) ?? new Set()).add(sha.toLowerCase()));
      }
      stanza = {};
    };
    for (let at = 0; at <= text.length; ) {
      const newline = text.indexOf('\n', at);
      const end = newline < 0 ? text.length : newline;
      if (end === at) flush();
      // Most lines (descriptions, dependencies) are ruled out by their first letter.
      for (const [prefix, key] of FIRST_LETTERS.has(text.charCodeAt(at)) ? FIELDS : []) {
        if (text.startsWith(prefix, at)) {
          stanza[key] = text.slice(at + prefix.length, end).trim();
          break;
        }
      }
      at = end + 1;
    }
    flush();
  }
  return out;
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function main(cache: string, archives: string, lists: string): Promise<void> {
  const index = indexHashes(readdirSync(lists).filter((n) => n.endsWith('_Packages')).map((n) => readFileSync(join(lists, n), 'latin1')));
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
