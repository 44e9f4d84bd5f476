/**
 * A blueprint pushed with ?lenient=true or ?type=T becomes, at push time, what
 * `kiln import --lenient --type T` makes of it: the same library code writes recipe.yaml next to
 * the blueprint, and the version stores both, recipe.yaml as its recipe file. The options thus
 * belong to the version (each build of it makes the same image), and the worker, the build
 * protocol and the database need nothing new: they build a YAML recipe as they always have.
 * Without the options a blueprint is stored alone and translated wherever it is checked or built.
 */
import { lstatSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import { imageType, importBlueprint, isBlueprintFile, type BlueprintOptions } from '../../blueprint/index.js';
import { UserError } from '../../errors.js';
import { ApiError, type DiagnosticItem } from '../http/errors.js';
import { checkPushedRecipe } from './check.js';

export interface BlueprintQuery {
  lenient?: 'true' | 'false' | undefined;
  type?: string | undefined;
}

/** What the query asks of a blueprint; undefined when nothing (`lenient=false` asks nothing). */
export function blueprintOptions(query: BlueprintQuery, file: string): BlueprintOptions | undefined {
  const lenient = query.lenient === 'true';
  if (!lenient && query.type === undefined) return undefined;
  if (!isBlueprintFile(file)) {
    const asked = [...(lenient ? ['lenient'] : []), ...(query.type === undefined ? [] : ['type'])];
    throw new ApiError(
      400,
      'invalid_request',
      `${asked.map((a) => `querystring.${a}`).join(', ')}: for blueprints (*.toml) only; the recipe ${file} is YAML, which names its formats in outputs: (push it without ${asked.join(' and ')})`,
    );
  }
  if (query.type !== undefined) {
    try {
      imageType(query.type);
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      throw new ApiError(400, 'invalid_request', `querystring.type: ${err.message.replace(/^--type /, '')}`);
    }
  }
  return { ...(lenient ? { lenient } : {}), ...(query.type === undefined ? {} : { type: query.type }) };
}

export interface Translated {
  /** The recipe file the version is built from. */
  file: string;
  /** What --lenient dropped, each at its blueprint line. */
  warnings: DiagnosticItem[];
}

/** Writes the blueprint's recipe.yaml into the bundle folder `dir`; 422 when it does not translate. */
export function translatePushedBlueprint(dir: string, file: string, options: BlueprintOptions): Translated {
  // Checked as a blueprint first, so a refusal names the blueprint's lines as a push without options does.
  checkPushedRecipe(dir, file, options);
  // Beside the blueprint: a key file it names is found from the recipe's folder.
  const recipe = posix.join(posix.dirname(file), 'recipe.yaml');
  // The folder must really be in the bundle (not reached through a link), and the name free: a
  // link in its place counts as taken, even one that points to nothing.
  const root = realpathSync(dir);
  const folder = realpathSync(`${dir}/${posix.dirname(recipe)}`);
  if (folder !== root && !folder.startsWith(`${root}/`)) {
    throw new ApiError(422, 'invalid_bundle', `${file}: its folder is reached through a link that leads out of the bundle`);
  }
  if (lstatSync(`${dir}/${recipe}`, { throwIfNoEntry: false })) {
    throw new ApiError(422, 'invalid_bundle', `${recipe}: the bundle already has the file the blueprint ${file} is translated into with lenient or type; leave it out, or push without them`);
  }
  const { translation, yaml } = importBlueprint(file, readFileSync(`${dir}/${file}`, 'utf8'), options);
  writeFileSync(`${dir}/${recipe}`, yaml.text, { mode: 0o644, flag: 'wx' });
  return { file: recipe, warnings: translation.warnings };
}
