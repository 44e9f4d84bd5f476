/**
 * Package sets: the base system (the bootstrap stage installs it), then each layer's packages in
 * the order the layers apply, then the recipe's own with what its keys need (boot loader,
 * locales, Ansible...). Every set after the base is a packages stage of its own, so adding a
 * package reruns only its set's stage and those after it, never the bootstrap. The sets come from
 * the recipe alone, never from what the cache holds, so the stage list (and so the image) is the
 * same whichever stages were cached.
 */
import type { LockFile } from '../lockfile/lockfile.js';
import type { LoadedRecipe } from '../recipe/index.js';

export interface PackageSet {
  /** "base", "layer NAME" or "recipe": kiln.lock records it for each package. */
  set: string;
  packages: string[];
  /** name=version entries apt must find (checked before it installs, to name the versions there are). */
  pins: string[];
  /** From the lock: packages to mark as installed only as dependencies again. */
  autoInstalled: string[];
}

const bare = (p: string) => p.replace(/[:=].*$/, '');

/**
 * The base set (always there) and the non-empty others, in order. A package belongs to the
 * first set that asks for it: the base for the base system, else the first layer that names it,
 * else the recipe. With a lock, each set installs the locked versions of the packages its stage
 * installed in the locked build (dependencies included), so a rebuild repeats every stage's
 * transaction; a lock older than package sets puts them all in the base.
 */
export function packageSets(loaded: LoadedRecipe, base: string[], implicit: string[], lock?: LockFile): { base: PackageSet; later: PackageSet[] } {
  const layerSets = loaded.layers.map((l) => `layer ${l.name}`);
  const setOf = new Map<string, string>();
  const value = new Map<string, string>();
  const claim = (name: string, set: string) => {
    if (!setOf.has(bare(name))) setOf.set(bare(name), set);
  };
  for (const name of base) claim(name, 'base');
  for (const p of loaded.recipe.packages) {
    const first = loaded.origins.askedFor('packages', bare(p))[0];
    claim(p, first === undefined || first === loaded.origins.recipe.name ? 'recipe' : `layer ${first}`);
  }
  for (const name of implicit) claim(name, 'recipe');
  // Layers in the order they apply; one that only the merge knows (the dev container's tools) after them.
  const named = [...new Set(setOf.values())].filter((set) => set.startsWith('layer ') && !layerSets.includes(set));
  const order = ['base', ...layerSets, ...named, 'recipe'];
  // The recipe's own entry wins over kiln's: it may pin a version.
  for (const p of [...base, ...implicit, ...loaded.recipe.packages]) value.set(bare(p), p);

  const locked = new Set(lock?.packages.map((d) => d.name));
  const lockedSet = (set: string | undefined) => (set === undefined ? 'base' : order.includes(set) ? set : 'recipe');
  const sets = order.map((set): PackageSet => {
    const wanted = [...value].filter(([name]) => setOf.get(name) === set && !locked.has(name)).map(([, p]) => p);
    const fromLock = (lock?.packages ?? []).filter((d) => lockedSet(d.set) === set);
    return {
      set,
      packages: [...fromLock.map((d) => `${d.name}=${d.version}`), ...wanted].sort(),
      // A locked package is pinned by the lock, whose own message says what to do when it is gone.
      pins: wanted.filter((p) => p.includes('=')).sort(),
      autoInstalled: fromLock.filter((d) => d.auto).map((d) => d.name).sort(),
    };
  });
  const [first, ...rest] = sets;
  if (!first) throw new Error('compile: no base package set');
  return { base: first, later: rest.filter((s) => s.packages.length) };
}

/** Every package a plan installs, whichever stage's set it is in (bootstrap and packages stages). */
export function plannedPackages(stages: readonly { stage: string; options: Record<string, unknown> }[]): string[] {
  return stages.filter((s) => s.stage === 'bootstrap' || s.stage === 'packages').flatMap((s) => s.options.packages as string[]);
}
