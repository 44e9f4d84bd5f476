/**
 * Rules for health checks: each script exists beside the file that names it, is a file, and has a
 * name that may run (never an editor or dpkg backup); two scripts of one kind cannot share a name,
 * since both would land at the same path in the image.
 */
import { basename } from 'node:path';
import { resolveInside } from './files.js';
import { hookNameProblem } from './hook-names.js';
import type { Origin } from './origins.js';
import { HEALTH_KINDS, type Recipe } from './schema.js';
import { show, type KeyPath } from './source.js';

type Fail = (path: KeyPath, message: string) => void;

/** Where a check runs from in the image: /etc/kiln-health/<kind>.d/<its file name>. */
export function healthPath(kind: (typeof HEALTH_KINDS)[number], script: string): string {
  return `/etc/kiln-health/${kind}.d/${basename(script)}`;
}

export function validateHealth(recipe: Recipe, originOf: (path: KeyPath) => Origin, fail: Fail): void {
  const health = recipe.health;
  if (!health) return;
  for (const kind of HEALTH_KINDS) {
    const seen = new Map<string, number>();
    (health[kind] ?? []).forEach((script, i) => {
      const path: KeyPath = ['health', kind, i];
      const name = basename(script);
      const dst = healthPath(kind, script);
      const problem = hookNameProblem(name);
      if (problem) return fail(path, `${show(script)}: the file name ${problem}, so it would never run; rename the file`);
      const earlier = seen.get(name);
      if (earlier !== undefined) return fail(path, `${show(script)} has the same file name as health.${kind}[${earlier}]; both would be ${dst} in the image`);
      seen.set(name, i);
      const origin = originOf(path);
      const found = resolveInside(origin.folder, script, origin.name === 'recipe' ? 'recipe' : 'layer');
      if ('error' in found) fail(path, `${show(script)} ${found.error}`);
      else if (found.kind === 'dir') fail(path, `${show(script)} is a folder; give one script per entry`);
    });
  }
}
