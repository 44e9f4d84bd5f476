/** Recipe file → manifest whose every stage's options have passed that stage's schema. */
import { compile, type Manifest } from '../manifest/index.js';
import { loadRecipe, type LoadedRecipe, type LoadOptions } from '../recipe/index.js';
import { STAGES, stageByName } from '../stages/registry.js';

export interface Plan {
  loaded: LoadedRecipe;
  manifest: Manifest;
}

export const STAGE_VERSIONS: Record<string, number> = Object.fromEntries(STAGES.map((s) => [s.name, s.version]));

export function planRecipe(file: string, options: LoadOptions = {}): Plan {
  const loaded = loadRecipe(file, options);
  return { loaded, manifest: checkedManifest(loaded) };
}

export function checkedManifest(loaded: LoadedRecipe): Manifest {
  const manifest = compile(loaded, STAGE_VERSIONS);
  for (const step of manifest.stages) {
    const stage = stageByName(step.stage);
    if (!stage) throw new Error(`manifest names unknown stage ${step.stage}`);
    const parsed = stage.options.safeParse(step.options);
    // The compiler made these options: a mismatch is a bug in kiln, not in the recipe.
    if (!parsed.success) throw new Error(`stage ${step.stage}: compiled options do not match its schema: ${parsed.error.message}`);
  }
  return manifest;
}
