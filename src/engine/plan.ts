/** Recipe file → manifest whose every stage's options have passed that stage's schema. */
import { compile, type Manifest } from '../manifest/index.js';
import type { LoadedRecipe } from '../recipe/index.js';
import { loadAnyRecipe, type AnyRecipeOptions } from '../blueprint/index.js';
import { STAGES, stageByName } from '../stages/registry.js';
import { UserError } from '../errors.js';
import type { LockFile } from '../lockfile/lockfile.js';

export interface Plan {
  loaded: LoadedRecipe;
  manifest: Manifest;
}

export const STAGE_VERSIONS: Record<string, number> = Object.fromEntries(STAGES.map((s) => [s.name, s.version]));

/** `file`: a recipe, or an osbuild-composer blueprint (*.toml), which is translated first. */
export function planRecipe(file: string, options: AnyRecipeOptions & { lock?: LockFile } = {}): Plan {
  const loaded = loadAnyRecipe(file, options);
  if (options.lock) checkLockFits(options.lock, loaded);
  const epoch = sourceDateEpoch(options.env ?? process.env) ?? options.lock?.sourceDateEpoch;
  return { loaded, manifest: checkedManifest(loaded, options.lock, epoch) };
}

/** SOURCE_DATE_EPOCH from the environment, as reproducible-builds.org defines it: whole seconds. */
export function sourceDateEpoch(env: Record<string, string | undefined>): number | undefined {
  const value = env.SOURCE_DATE_EPOCH;
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,12}$/.test(value)) throw new UserError(`SOURCE_DATE_EPOCH=${value}: expected whole seconds since 1970-01-01 UTC, e.g. SOURCE_DATE_EPOCH=$(date +%s)`);
  return Number(value);
}

/** A lock made for another release or architecture cannot pin this recipe. */
function checkLockFits(lock: LockFile, loaded: LoadedRecipe): void {
  const r = loaded.recipe;
  if (lock.distro.release !== r.distro.release || lock.arch !== r.arch) {
    throw new UserError(`--lock: the lock is for ${lock.distro.name} ${lock.distro.release} ${lock.arch}, the recipe builds ${r.distro.name} ${r.distro.release} ${r.arch}`);
  }
}

export function checkedManifest(loaded: LoadedRecipe, lock?: LockFile, epoch?: number): Manifest {
  const manifest = compile(loaded, STAGE_VERSIONS, lock, epoch);
  for (const step of manifest.stages) {
    const stage = stageByName(step.stage);
    if (!stage) throw new Error(`manifest names unknown stage ${step.stage}`);
    const parsed = stage.options.safeParse(step.options);
    // The compiler made these options: a mismatch is a bug in kiln, not in the recipe.
    if (!parsed.success) throw new Error(`stage ${step.stage}: compiled options do not match its schema: ${parsed.error.message}`);
  }
  return manifest;
}
