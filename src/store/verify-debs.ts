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

/**
 * File name → SHA256s from Packages files (text or bytes), for the packages named in `wanted`
 * (all when absent). A release's index is about 56 MB and 68,000 stanzas, read on every build:
 * it is searched as bytes (the stanza's end, its Package field, and only for a wanted package
 * the other three), not decoded and split into lines.
 */
export function indexHashes(indexes: readonly (string | Buffer)[], wanted?: ReadonlySet<string>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const index of indexes) {
    const buf = typeof index === 'string' ? Buffer.from(index, 'latin1') : index;
    for (let start = 0; start < buf.length; ) {
      // Stanzas are separated by blank lines; extra ones make empty stanzas, skipped.
      if (buf[start] === 0x0a) {
        start++;
        continue;
      }
      const blank = buf.indexOf(BLANK_LINE, start);
      const end = blank < 0 ? buf.length : blank;
      const field = (name: string) => fieldValue(buf, name, start, end);
      const pkg = field('Package');
      if (pkg && (!wanted || wanted.has(pkg))) {
        const [version, arch, sha] = [field('Version'), field('Architecture'), field('SHA256')];
        if (version && arch && sha) {
          const name = archiveName(pkg, version, arch);
          out.set(name, (out.get(name) ?? new Set()).add(sha.toLowerCase()));
        }
      }
      start = end + 1;
    }
  }
  return out;
}

const BLANK_LINE = Buffer.from('\n\n');
const NEEDLES: Record<string, Buffer> = {};

/** The value of the field `name` in the stanza buf[start, end): a whole line `name: value`, not a continuation line or a longer field name. */
function fieldValue(buf: Buffer, name: string, start: number, end: number): string | undefined {
  const needle = (NEEDLES[name] ??= Buffer.from(`\n${name}: `, 'latin1'));
  // The needle without its newline, at the stanza's first byte (where Package always is).
  let from = start + needle.length - 1;
  if (from > end || buf.compare(needle, 1, needle.length, start, from) !== 0) {
    const at = buf.indexOf(needle, start);
    if (at < 0 || at >= end) return undefined;
    from = at + needle.length;
  }
  const newline = buf.indexOf(0x0a, from);
  return buf.toString('latin1', from, newline < 0 || newline > end ? end : newline).trim();
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Hard-links into `archives` the cached .debs whose SHA256 the index in `lists` vouches for, and
 * returns how many, with a line for each one refused. `skip` names files not to check: the packages
 * stage passes those of the versions its root has installed already, which apt will not fetch (the
 * recipe's set would otherwise hash every cached .deb of the base system again, about 0.4 s).
 */
export async function linkVerified(cache: string, archives: string, lists: string, skip: ReadonlySet<string> = new Set()): Promise<{ linked: number; refused: string[] }> {
  const cached = existsSync(cache) ? readdirSync(cache).filter((n) => n.endsWith('.deb') && !skip.has(n)) : [];
  // A package name has no underscore: apt's file name is name_version_arch.deb.
  const wanted = new Set(cached.map((n) => n.slice(0, n.indexOf('_'))));
  const index = wanted.size ? indexHashes(readdirSync(lists).filter((n) => n.endsWith('_Packages')).map((n) => readFileSync(join(lists, n))), wanted) : new Map<string, Set<string>>();
  let linked = 0;
  const refused: string[] = [];
  for (const name of cached.filter((n) => index.has(n))) {
    const sum = await sha256(join(cache, name));
    if (!index.get(name)?.has(sum)) {
      refused.push(`not using cached ${name}: its SHA256 does not match the signed index`);
      continue;
    }
    if (!existsSync(join(archives, name))) linkSync(join(cache, name), join(archives, name));
    linked++;
  }
  return { linked, refused };
}

async function main(cache: string, archives: string, lists: string): Promise<void> {
  const { linked, refused } = await linkVerified(cache, archives, lists);
  for (const line of refused) process.stdout.write(`kiln: ${line}\n`);
  process.stdout.write(`kiln: ${linked} cached .debs match the signed package index\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [cache, archives, lists] = process.argv.slice(2);
  if (!cache || !archives || !lists) throw new Error('usage: verify-debs CACHE ARCHIVES LISTS');
  await main(cache, archives, lists);
}
