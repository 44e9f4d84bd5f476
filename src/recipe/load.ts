/** Reads a recipe file: YAML with positions → variables → schema → semantic rules. */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { fromZod } from './issues.js';
import { RecipeSchema, type Recipe } from './schema.js';
import { SourceFile } from './source.js';
import { validate } from './validate.js';
import { recipeDefaults, substituteDocument } from './variables.js';

export interface LoadOptions {
  /** --set NAME=VALUE */
  set?: Record<string, string>;
  /** Where KILN_VAR_* come from; process.env by default. */
  env?: Record<string, string | undefined>;
  /** Replaces `arch` (kiln build --arch). */
  arch?: string;
}

export interface LoadedRecipe {
  recipe: Recipe;
  /** The recipe file as given by the user (used in messages). */
  file: string;
  /** Absolute folder that referenced files are relative to. */
  folder: string;
}

export function loadRecipe(file: string, options: LoadOptions = {}): LoadedRecipe {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UserError(`${file}: no such recipe file (give the path to a recipe YAML, e.g. examples/minimal.yaml)`);
  }
  return parseRecipe(file, text, dirname(resolve(file)), options);
}

/** The pure half of loadRecipe, for tests and the service: text in, recipe or UserError out. */
export function parseRecipe(file: string, text: string, folder: string, options: LoadOptions = {}): LoadedRecipe {
  const source = new SourceFile(file, text);
  const syntax = source.syntaxErrors();
  if (syntax.length) throw new UserError(syntax.join('\n'));

  const sources = { set: options.set ?? {}, env: options.env ?? process.env, defaults: recipeDefaults(source.doc) };
  const varIssues = substituteDocument(source.doc, sources);
  if (varIssues.length) throw new UserError(varIssues.map((i) => source.format(i)).join('\n'));

  const input: unknown = source.doc.toJS() ?? {};
  if (options.arch !== undefined && input && typeof input === 'object') (input as Record<string, unknown>).arch = options.arch;
  const parsed = RecipeSchema.safeParse(input);
  if (!parsed.success) {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw new UserError(`${file}:1:1 the recipe must be a mapping of keys to values (start with "name: my-image")`);
    }
    throw new UserError(fromZod(RecipeSchema, parsed.error.issues, input).map((i) => source.format(i)).join('\n'));
  }
  const issues = validate(parsed.data, folder);
  if (issues.length) throw new UserError(issues.map((i) => source.format(i)).join('\n'));
  return { recipe: parsed.data, file, folder };
}
