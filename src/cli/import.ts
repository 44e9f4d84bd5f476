/** `kiln import BLUEPRINT [-o recipe.yaml]`: an osbuild-composer blueprint as a commented kiln recipe. */
import { renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { importBlueprint, isBlueprintFile } from '../blueprint/index.js';
import { formatDiagnostic, type Diagnostic } from '../diagnostics.js';
import { UserError } from '../errors.js';
import { readSourceText } from '../recipe/read-text.js';

export interface ImportOptions {
  output?: string;
  lenient?: boolean;
  type?: string;
}

/** Writes the recipe (to `output`, else returns it for stdout); warnings are returned as lines. */
export function importCommand(file: string, options: ImportOptions): { yaml?: string; warnings: string[] } {
  if (!isBlueprintFile(file)) throw new UserError(`${file}: kiln import reads osbuild-composer blueprints (*.toml)`);
  if (options.output !== undefined && resolve(options.output) === resolve(file)) throw new UserError(`-o ${options.output}: that is the blueprint itself; name another file (e.g. recipe.yaml)`);
  const read = readSourceText(file, file, 'recipe');
  if ('error' in read) throw UserError.of([read.error]);
  const { translation, yaml } = importBlueprint(file, read.text, { lenient: options.lenient ?? false, ...(options.type === undefined ? {} : { type: options.type }) });
  const warnings = translation.warnings.map((w) => `warning: ${formatDiagnostic(w)}`);
  if (options.output === undefined) return { yaml: yaml.text, warnings };
  // Written whole or not at all: a recipe cut off halfway would still parse.
  const temp = `${options.output}.kiln-tmp`;
  writeFileSync(temp, yaml.text, { mode: 0o644 });
  renameSync(temp, options.output);
  return { warnings };
}

/** `--lenient` and `--type` of build and plan, and where a blueprint's warnings go. */
export function blueprintFlags(opts: { lenient?: boolean; type?: string }): { lenient?: boolean; type?: string; onWarning: (w: Diagnostic) => void } {
  return {
    ...(opts.lenient ? { lenient: true } : {}),
    ...(opts.type === undefined ? {} : { type: opts.type }),
    onWarning: (w) => process.stderr.write(`warning: ${formatDiagnostic(w)}\n`),
  };
}
