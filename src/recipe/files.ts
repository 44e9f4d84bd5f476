/**
 * The recipe's view of its own folder: every path a recipe names must exist and stay inside the
 * folder (no `..` escapes, no symlinks out). The only file-system access of the recipe layer.
 */
import { lstatSync, readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { LIMITS } from './limits.js';

export type Resolved = { path: string; kind: 'file' | 'dir' } | { error: string };

/** `owner` names whose folder it is in messages: paths in a layer start at the layer's folder. */
export function resolveInside(folder: string, name: string, owner: 'recipe' | 'layer' = 'recipe'): Resolved {
  const relativeTo = owner === 'recipe' ? 'the recipe file' : 'the layer folder';
  if (isAbsolute(name)) return { error: `is absolute; give a path relative to ${relativeTo}` };
  const root = realpathSync(folder);
  const wanted = resolve(root, name);
  if (escapes(root, wanted)) return { error: `leaves the ${owner}'s folder; keep referenced files inside it` };
  let real: string;
  try {
    real = realpathSync(wanted);
  } catch {
    return { error: `does not exist (paths are relative to ${relativeTo})` };
  }
  if (escapes(root, real)) return { error: `is a link that leaves the ${owner}'s folder; keep referenced files inside it` };
  const stat = statSync(real);
  if (stat.isDirectory()) {
    const problem = treeProblem(real);
    return problem ? { error: problem } : { path: real, kind: 'dir' };
  }
  return stat.isFile() ? { path: real, kind: 'file' } : { error: `is ${special(stat)}; kiln copies files, folders and symbolic links` };
}

/**
 * What makes a folder unusable as an overlay: a FIFO, socket or device in it (reading one would
 * block or copy a host device into the image), or more entries than the limit. Symbolic links are
 * fine: they are copied as links and resolve inside the image, never on the host.
 */
function treeProblem(root: string): string | undefined {
  const pending = [''];
  let entries = 0;
  while (pending.length) {
    const rel = pending.pop() ?? '';
    for (const name of readdirSync(resolve(root, rel))) {
      const path = rel ? `${rel}/${name}` : name;
      const stat = lstatSync(resolve(root, path));
      if (++entries > LIMITS.treeEntries) return `holds more than ${LIMITS.treeEntries} files and folders (the limit for a folder a recipe names)`;
      if (stat.isDirectory()) pending.push(path);
      else if (!stat.isFile() && !stat.isSymbolicLink()) return `holds ${path}, which is ${special(stat)}; kiln copies files, folders and symbolic links`;
    }
  }
  return undefined;
}

function special(stat: Stats): string {
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

function escapes(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
}
