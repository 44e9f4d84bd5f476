/**
 * A bundle's recipe checked by the CLI's own loader and compiler, so the service refuses exactly
 * what `kiln build` would, with the same positioned messages (paths relative to the bundle).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import type { BlueprintOptions } from '../../blueprint/index.js';
import { planRecipe, type Plan } from '../../engine/plan.js';
import { UserError } from '../../errors.js';
import { safeName } from '../bundle/unpack.js';
import { ApiError, type DiagnosticItem } from '../http/errors.js';

/** `lenient` and `type` are for a blueprint only (the loader refuses them for a YAML recipe). */
export interface CheckOptions extends BlueprintOptions {
  set?: Record<string, string>;
  arch?: string;
}

/** The recipe file of a bundle: `requested`, else recipe.yaml, else the only top-level *.yaml, else the only blueprint (*.toml). */
export function recipeFileOf(dir: string, requested?: string): string {
  if (requested !== undefined) {
    const name = safeName(requested);
    if (name === undefined || !existsSync(`${dir}/${name}`) || !statSync(`${dir}/${name}`).isFile()) {
      throw new ApiError(422, 'invalid_bundle', `?file=${requested}: the bundle has no such file (give the recipe's path inside the bundle)`);
    }
    return name;
  }
  if (existsSync(`${dir}/recipe.yaml`)) return 'recipe.yaml';
  const yamls = readdirSync(dir).filter((n) => /\.ya?ml$/.test(n) && statSync(`${dir}/${n}`).isFile());
  if (yamls.length === 1 && yamls[0] !== undefined) return yamls[0];
  const tomls = yamls.length ? [] : readdirSync(dir).filter((n) => n.endsWith('.toml') && statSync(`${dir}/${n}`).isFile());
  if (tomls.length === 1 && tomls[0] !== undefined) return tomls[0];
  throw new ApiError(422, 'invalid_bundle', `the bundle has ${yamls.length ? `several top-level YAML files (${yamls.sort().join(', ')})` : 'no recipe.yaml'}; name the recipe with ?file=`);
}

/** Paths under the temporary folder as the user knows them: relative to the bundle's root. */
function relativeTo(dir: string, text: string): string {
  return text.replaceAll(`${dir}/`, '');
}

const UNSET = /^variable ([A-Za-z_][A-Za-z0-9_]*) is not set /;

/**
 * A pushed recipe is checked before anyone sets its variables: a variable with no default is left
 * to the build request (which must set it), so the check runs once more with a stand-in value
 * for each. Any other problem, or one the stand-ins cause, refuses the push as `kiln build` would.
 */
export function checkPushedRecipe(dir: string, file: string, options: CheckOptions = {}): Plan {
  try {
    return checkRecipe(dir, file, options);
  } catch (err) {
    if (!(err instanceof ApiError) || !err.diagnostics?.length) throw err;
    const unset: string[] = [];
    for (const d of err.diagnostics) {
      const name = UNSET.exec(d.message.replace(/^\S+: /, ''))?.[1];
      if (name === undefined) throw err;
      unset.push(name);
    }
    try {
      return checkRecipe(dir, file, { ...options, set: Object.fromEntries(unset.map((name): [string, string] => [name, 'x'])) });
    } catch {
      throw err;
    }
  }
}

export function checkRecipe(dir: string, file: string, options: CheckOptions = {}): Plan {
  try {
    // No environment: what a recipe means must not depend on the server's KILN_VAR_* or KILN_LAYER_PATH.
    return planRecipe(`${dir}/${file}`, { ...options, env: {}, service: true });
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    const diagnostics: DiagnosticItem[] = err.diagnostics.map((d) => ({ ...d, file: relativeTo(dir, d.file), message: relativeTo(dir, d.message) }));
    if (diagnostics.length === 0) diagnostics.push({ file, message: relativeTo(dir, err.message) });
    throw new ApiError(422, 'invalid_recipe', relativeTo(dir, err.message), diagnostics);
  }
}
