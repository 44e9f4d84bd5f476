/**
 * Content hashes of the files a recipe references, so a stage id changes whenever any byte, name,
 * mode or link target under an overlay folder changes. The compiler's only file-system access.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson, sha256 } from '../host/canonical.js';

export function hashFile(path: string): string {
  return sha256(readFileSync(path));
}

/** A folder's hash: over the sorted list of [relative path, kind, mode, content or link hash]. */
export function hashTree(root: string): string {
  const entries: [string, string, number, string][] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const stat = lstatSync(join(root, path));
      const mode = stat.mode & 0o7777;
      if (stat.isDirectory()) {
        entries.push([path, 'dir', mode, '']);
        walk(path);
      } else if (stat.isSymbolicLink()) entries.push([path, 'link', 0, readlinkSync(join(root, path))]);
      else entries.push([path, 'file', mode, hashFile(join(root, path))]);
    }
  };
  walk('');
  return sha256(canonicalJson(entries));
}
