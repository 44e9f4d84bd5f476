/** Recipe file → manifest whose every stage's options have passed that stage's schema. */
import { compile, type Manifest } from '../manifest/index.js';
import { loadRecipe, type LoadedRecipe, type LoadOptions } from '../recipe/index.js';
import { STAGES, stageByName } from '../stages/registry.js';
import { UserError } from '../errors.js';
import type { LockFile } from '../lockfile/lockfile.js';

export interface Plan {
  loaded: LoadedRecipe;
  manifest: Manifest;
}

export const STAGE_VERSIONS: Record<string, number> = Object.fromEntries(STAGES.map((s) => [s.name, s.version]));

export function planRecipe(file: string, options: LoadOptions & { lock?: LockFile } = {}): Plan {
  const loaded = loadRecipe(file, options);
  if (options.lock) checkLockFits(options.lock, loaded);
  return { loaded, manifest: checkedManifest(loaded, options.lock) };
}

/** A lock made for another release or architecture cannot pin this recipe. */
function checkLockFits(lock: LockFile, loaded: LoadedRecipe): void {
  const r = loaded.recipe;
  if (lock.distro.release !== r.distro.release || lock.arch !== r.arch) {
    throw new UserError(`--lock: the lock is for ${lock.distro.name} ${lock.distro.release} ${lock.arch}, the recipe builds ${r.distro.name} ${r.distro.release} ${r.arch}`);
  }
}

export function checkedManifest(loaded: LoadedRecipe, lock?: LockFile): Manifest {
  const manifest = compile(loaded, STAGE_VERSIONS, lock);
  for (const step of manifest.stages) {
    const stage = stageByName(step.stage);
    if (!stage) throw new Error(`manifest names unknown stage ${step.stage}`);
    const parsed = stage.options.safeParse(step.options);
    // The compiler made these options: a mismatch is a bug in kiln, not in the recipe.
    if (!parsed.success) throw new Error(`stage ${step.stage}: compiled options do not match its schema: ${parsed.error.message}`);
  }
  return manifest;
}
