/**
 * Where a bundle's symbolic link leads, followed on disk one component at a time. A link that
 * points to nothing can still pass through other links of the bundle on the way: `d/../..` with
 * `d -> ../..` climbs higher than its text says. realpath() gives up on such a link, and a later
 * write through it (or a file that appears at its target) would land outside. So every step is
 * checked, links inside the target are followed, and a component that does not exist (so cannot be
 * a link) is taken as it is.
 */
import { lstat, readlink, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';

const MAX_HOPS = 40;

/** True when the link at `link` (inside `root`, a real path) leads to a place inside `root`. */
export async function linkStaysInside(root: string, link: string): Promise<boolean> {
  const parent = await realpath(dirname(link));
  if (parent !== root && !parent.startsWith(`${root}/`)) return false;
  let hops = 0;
  const walk = async (from: string, target: string): Promise<string | undefined> => {
    if (target.startsWith('/') || ++hops > MAX_HOPS) return undefined;
    let at = from;
    for (const part of target.split('/')) {
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (at === root) return undefined;
        at = dirname(at);
        continue;
      }
      const next = join(at, part);
      const stat = await lstat(next).catch(() => undefined);
      if (!stat?.isSymbolicLink()) {
        at = next;
        continue;
      }
      const through = await walk(at, await readlink(next));
      if (through === undefined) return undefined;
      at = through;
    }
    return at;
  };
  return (await walk(parent, await readlink(link))) !== undefined;
}
