/**
 * The recipe's view of its own folder: every path a recipe names must exist and stay inside the
 * folder (no `..` escapes, no symlinks out). The only file-system access of the recipe layer.
 */
import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';

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
  return { path: real, kind: statSync(real).isDirectory() ? 'dir' : 'file' };
}

function escapes(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
}
