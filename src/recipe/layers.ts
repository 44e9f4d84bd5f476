/**
 * Finding and reading layers: `<folder>/<name>/layer.yaml` with optional `overlay/` and
 * `hooks/<phase>/`. The search path is the recipe's own `layers/` folder, then KILN_LAYER_PATH
 * (colon-separated folders), then the layers shipped with kiln; the first folder that has a layer
 * of that name wins. The recipe layer's loader for layers: nothing else here touches the disk.
 */
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Diagnostic } from '../diagnostics.js';
import { fromZod } from './issues.js';
import { readSourceText } from './read-text.js';
import { matchUserPattern } from './user-pattern.js';
import { resolveInside } from './files.js';
import { hookNameProblem, lexical } from './hook-names.js';
import { HOOK_PHASES, LayerSchema, type HookPhase, type LayerInput } from './schema.js';
import { show, SourceFile, type Issue } from './source.js';
import { lookup, substituteDocument, type VariableSources } from './variables.js';

export const BUILTIN_LAYERS = fileURLToPath(new URL('../../../layers/', import.meta.url));
export const LAYER_NAME = /^[a-z0-9][a-z0-9._-]*$/;
/** Origin names the build record uses for what no layer asked for. */
export const RESERVED = ['recipe', 'kiln'];

export interface LayerFolder {
  name: string;
  folder: string;
  /** Another folder earlier on the search path has a layer of the same name. */
  shadowed: boolean;
}

export interface LayerDef {
  name: string;
  folder: string;
  source: SourceFile;
  layer: LayerInput;
  /** The layer's declared variables with the values this build uses. */
  variables: Record<string, string>;
  /** Hook scripts per phase, relative to the layer folder, in the order they run. */
  hooks: Record<HookPhase, string[]>;
  /** Files in hooks/<phase>/ that will not run, and why. */
  skipped: { path: string; why: string }[];
  hasOverlay: boolean;
}

export type LayerLoad = { layer: LayerDef } | { errors: Diagnostic[] };

export function searchPath(recipeFolder: string | undefined, env: Record<string, string | undefined>): string[] {
  const fromEnv = (env.KILN_LAYER_PATH ?? '').split(':').filter(Boolean);
  const all = [...(recipeFolder ? [join(recipeFolder, 'layers')] : []), ...fromEnv, BUILTIN_LAYERS];
  // A folder named twice (kiln's own layers/ when run from its repository) is searched once.
  const seen = new Set<string>();
  return all.filter((dir) => {
    const key = realFolder(dir);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function realFolder(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return resolve(dir);
  }
}

/** Every layer on the search path, the ones a nearer folder hides included. */
export function listLayers(path: readonly string[]): LayerFolder[] {
  const seen = new Set<string>();
  const out: LayerFolder[] = [];
  for (const dir of path) {
    let names: string[];
    try {
      names = readdirSync(dir).sort(lexical);
    } catch {
      continue;
    }
    for (const name of names) {
      if (!existsSync(join(dir, name, 'layer.yaml'))) continue;
      out.push({ name, folder: join(dir, name), shadowed: seen.has(name) });
      seen.add(name);
    }
  }
  return out;
}

export function findLayer(name: string, path: readonly string[]): string | undefined {
  if (!LAYER_NAME.test(name)) return undefined;
  return path.map((dir) => join(dir, name)).find((folder) => existsSync(join(folder, 'layer.yaml')));
}

/** How a path is shown in messages: relative to the working folder when it is below it. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/**
 * Reads one layer. Its variables take values from --set, KILN_VAR_*, the recipe's `variables:` and
 * then the layer's own defaults; a value must match the variable's pattern.
 */
export function loadLayer(name: string, folder: string, set: Record<string, string>, env: Record<string, string | undefined>, recipeVariables: Record<string, string>): LayerLoad {
  const file = join(folder, 'layer.yaml');
  const read = readSourceText(file, displayPath(file), 'layer');
  if ('error' in read) return { errors: [read.error] };
  const source = new SourceFile(displayPath(file), read.text);
  const syntax = source.syntaxErrors();
  if (syntax.length) return { errors: syntax };

  const declared = declaredVariables(source);
  const sources: VariableSources = { set, env, defaults: { ...declared.defaults, ...recipeVariables } };
  const issues: Issue[] = substituteDocument(source.doc, sources);
  const strings = source.stringErrors();
  if (strings.length) return { errors: strings };
  const input: unknown = source.toJS() ?? {};
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { errors: [source.at(0, 'a layer must be a mapping of keys to values (start with "description: ...")')] };
  }
  const parsed = LayerSchema.safeParse(input);
  if (!parsed.success) issues.push(...fromZod(LayerSchema, parsed.error.issues, input));

  const variables: Record<string, string> = {};
  for (const [variable, spec] of Object.entries(declared.specs)) {
    const value = lookup(variable, sources);
    const at = ['variables', variable];
    if (value === undefined) {
      issues.push({ path: at, message: `has no default; set it with --set ${variable}=VALUE, KILN_VAR_${variable}=VALUE or the recipe's variables:` });
      continue;
    }
    variables[variable] = value;
    if (spec.pattern === undefined) continue;
    const match = matchUserPattern(spec.pattern, value);
    if ('error' in match) {
      issues.push({ path: [...at, 'pattern'], message: `${show(spec.pattern)} ${match.error}` });
      continue;
    }
    if (!match.matches) issues.push({ path: at, message: `${show(value)} does not match the pattern ${spec.pattern}` });
  }
  if (issues.length || !parsed.success) return { errors: issues.map((i) => source.diagnostic(i)) };

  const { hooks, skipped, errors } = hookFolders(folder, parsed.data);
  if (errors.length) return { errors };
  const hasOverlay = existsSync(join(folder, 'overlay')) && statSync(join(folder, 'overlay')).isDirectory();
  return { layer: { name, folder, source, layer: parsed.data, variables, hooks, skipped, hasOverlay } };
}

function declaredVariables(source: SourceFile): { defaults: Record<string, string>; specs: Record<string, { pattern?: string }> } {
  const raw: unknown = source.doc.get('variables', false);
  const defaults: Record<string, string> = {};
  const specs: Record<string, { pattern?: string }> = {};
  const node = (raw && typeof raw === 'object' && 'toJSON' in raw ? (raw as { toJSON(): unknown }).toJSON() : undefined) as Record<string, unknown> | undefined;
  for (const [name, spec] of Object.entries(node ?? {})) {
    if (!spec || typeof spec !== 'object') continue;
    const { default: value, pattern } = spec as { default?: unknown; pattern?: unknown };
    if (typeof value === 'string' || typeof value === 'number') defaults[name] = String(value);
    specs[name] = typeof pattern === 'string' ? { pattern } : {};
  }
  return { defaults, specs };
}

/** Scripts of each phase: those the layer lists, then `hooks/<phase>/`, run in lexical order. */
function hookFolders(folder: string, layer: LayerInput): Pick<LayerDef, 'hooks' | 'skipped'> & { errors: Diagnostic[] } {
  const hooks = {} as Record<HookPhase, string[]>;
  const skipped: LayerDef['skipped'] = [];
  const errors: Diagnostic[] = [];
  for (const phase of HOOK_PHASES) {
    const listed = layer.hooks?.[phase] ?? [];
    const dir = join(folder, 'hooks', phase);
    const found: string[] = [];
    if (existsSync(dir)) {
      for (const name of readdirSync(dir).sort(lexical)) {
        const path = `hooks/${phase}/${name}`;
        const why = hookNameProblem(name);
        // A name that never runs is only listed; a plain name that is not a file inside the layer
        // (a folder, a FIFO, a link out of the layer) is an error: hooks run as root, some on the host.
        const entry = why ? undefined : resolveInside(folder, path, 'layer');
        if (why) skipped.push({ path, why });
        else if (entry && 'error' in entry) errors.push({ file: displayPath(join(folder, path)), message: `${entry.error} (hooks in hooks/${phase}/ run as root)` });
        else if (entry?.kind !== 'file') skipped.push({ path, why: 'is not a file' });
        else found.push(path);
      }
    }
    hooks[phase] = [...new Set([...listed, ...found])].sort((a, b) => lexical(base(a), base(b)) || lexical(a, b));
  }
  return { hooks, skipped, errors };
}

const base = (path: string) => path.slice(path.lastIndexOf('/') + 1);
