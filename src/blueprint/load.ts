/**
 * A blueprint wherever a recipe is taken: the translation's YAML goes through the recipe loader
 * like any recipe, and what the loader says about a line of it is said about the blueprint line
 * that line came from.
 */
import { basename, dirname, resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics.js';
import { UserError } from '../errors.js';
import { loadRecipe, parseRecipe, type LoadedRecipe, type LoadOptions } from '../recipe/index.js';
import { readSourceText } from '../recipe/read-text.js';
import { translateBlueprint, type BlueprintOptions } from './translate.js';
import { recipeYaml, type RecipeYaml } from './recipe-yaml.js';
import type { Translation } from './context.js';

export interface AnyRecipeOptions extends LoadOptions, BlueprintOptions {
  /** Called with each --lenient warning of a blueprint. */
  onWarning?: (warning: Diagnostic) => void;
}

export const isBlueprintFile = (file: string): boolean => /\.toml$/i.test(file);

/** A recipe (YAML) or a blueprint (`*.toml`), loaded the same way. */
export function loadAnyRecipe(file: string, options: AnyRecipeOptions = {}): LoadedRecipe {
  if (!isBlueprintFile(file)) {
    if (options.type !== undefined) throw new UserError(`--type ${options.type}: image types are for blueprints (*.toml); a recipe names its formats in outputs:`);
    if (options.lenient) throw new UserError('--lenient is for blueprints (*.toml); a recipe has nothing to translate');
    return loadRecipe(file, options);
  }
  const read = readSourceText(file, file, 'recipe');
  if ('error' in read) throw UserError.of([read.error]);
  return parseBlueprint(file, read.text, dirname(resolve(file)), options);
}

/** The blueprint `text` as kiln's recipe YAML and the translation behind it (kiln import). */
export function importBlueprint(file: string, text: string, options: BlueprintOptions = {}): { translation: Translation; yaml: RecipeYaml } {
  const translation = translateBlueprint(file, text, options);
  return { translation, yaml: recipeYaml(translation, basename(file)) };
}

export function parseBlueprint(file: string, text: string, folder: string, options: AnyRecipeOptions = {}): LoadedRecipe {
  const { translation, yaml } = importBlueprint(file, text, options);
  for (const warning of translation.warnings) options.onWarning?.(warning);
  try {
    return parseRecipe(file, yaml.text, folder, options);
  } catch (err) {
    if (!(err instanceof UserError) || !err.diagnostics.length) throw err;
    throw UserError.of(err.diagnostics.map((d) => (d.file === file && d.line !== undefined ? inBlueprint(d, d.line, yaml, translation) : d)));
  }
}

/** A diagnostic about line `line` of the translated recipe, placed at the blueprint line it came from. */
function inBlueprint(d: Diagnostic, line: number, yaml: RecipeYaml, t: Translation): Diagnostic {
  const pos = yaml.origin(line);
  return { file: d.file, line: pos.line, col: pos.col, text: t.positions.text(pos.line), message: `${d.message} (line ${line} of the recipe \`kiln import\` makes of it)` };
}
