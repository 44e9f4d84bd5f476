/** Reads a recipe file: YAML with positions → variables → schema → layers → semantic rules. */
import { ARCH_NAMES, archInfo, defaultConsoles } from '../arch/table.js';
import { dirname, join, relative, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { ALLOWED } from './allowed.js';
import { resolveInside } from './files.js';
import { lexical } from './hook-names.js';
import { fromZod, nearestAll, valueAt } from './issues.js';
import { findLayer, LAYER_NAME, listLayers, loadLayer, RESERVED, searchPath, type LayerDef } from './layers.js';
import { mergeLayers, type Part } from './merge.js';
import type { Origins } from './origins.js';
import { resolveOrder } from './resolve.js';
import { AB_PARTITIONS, HOOK_PHASES, RecipeSchema, type HookPhase, type LayerInput, type Recipe, type RecipeInput } from './schema.js';
import { readSourceText } from './read-text.js';
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
  /** Replaces `distro.release` (kiln build --matrix release=...). */
  release?: string;
  /** Layers applied after the recipe's own (kiln build --layer vm), as if listed last in `layers`. */
  layers?: readonly string[];
  /** The recipe came over the network (kiln serve): keys that name the server's own files (ostree.repo) are refused before any is read. */
  service?: boolean;
}

export interface LoadedRecipe {
  /** The recipe with its layers merged in. */
  recipe: Recipe;
  /** The layers applied, in order. */
  layers: LayerDef[];
  /** Which file, folder and layer each merged value came from. */
  origins: Origins;
  /** The recipe file as given by the user (used in messages). */
  file: string;
  /** Absolute folder that referenced files are relative to. */
  folder: string;
}

export function loadRecipe(file: string, options: LoadOptions = {}): LoadedRecipe {
  const read = readSourceText(file, file, 'recipe');
  if ('error' in read) throw UserError.of([read.error]);
  return parseRecipe(file, read.text, dirname(resolve(file)), options);
}

/** The pure half of loadRecipe, for tests and the service: text in, recipe or UserError out. */
export function parseRecipe(file: string, text: string, folder: string, options: LoadOptions = {}): LoadedRecipe {
  if (options.arch !== undefined && !(ALLOWED.arch.values as readonly string[]).includes(options.arch)) {
    throw new UserError(`--arch ${options.arch}: not an architecture kiln builds (supported: ${ALLOWED.arch.values.join(', ')})`);
  }
  const source = new SourceFile(file, text);
  const syntax = source.syntaxErrors();
  if (syntax.length) throw UserError.of(syntax);

  const sources = { set: options.set ?? {}, env: options.env ?? process.env, defaults: recipeDefaults(source.doc) };
  const varIssues = substituteDocument(source.doc, sources);
  if (varIssues.length) throw UserError.of(varIssues.map((i) => source.diagnostic(i)));
  const strings = source.stringErrors();
  if (strings.length) throw UserError.of(strings);

  if (source.doc.contents === null) throw UserError.of([{ file, message: 'is empty; the smallest recipe is one line: "name: my-image"' }]);
  const input: unknown = source.toJS();
  if (options.arch !== undefined && input && typeof input === 'object') (input as Record<string, unknown>).arch = options.arch;
  if (options.release !== undefined && input && typeof input === 'object' && !Array.isArray(input)) {
    const distro = (input as Record<string, unknown>).distro;
    (input as Record<string, unknown>).distro = { ...(distro && typeof distro === 'object' ? distro : {}), release: options.release };
  }
  if (options.layers?.length && input && typeof input === 'object' && !Array.isArray(input)) {
    const record = input as Record<string, unknown>;
    const own = Array.isArray(record.layers) ? (record.layers as unknown[]) : [];
    checkExtraLayers(options.layers, searchPath(folder, options.env ?? process.env));
    record.layers = [...own, ...options.layers.filter((name) => !own.includes(name))];
  }
  // What the recipe itself says, before the architecture's defaults fill in the kernel.
  const given = structuredClone(input);
  archDefaults(input);
  abDefaults(input);
  const parsed = RecipeSchema.safeParse(input);
  if (!parsed.success) {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw UserError.of([source.at(0, `the recipe must be a mapping of keys to values (start with "name: my-image")`)]);
    }
    throw UserError.of(fromZod(RecipeSchema, parsed.error.issues, input).map((i) => source.diagnostic(i)));
  }
  const recipe = parsed.data;
  const env = options.env ?? process.env;
  const layers = resolveLayers(source, recipe, folder, options.set ?? {}, env);
  const own: Part = { name: 'recipe', folder, source, data: ownLists(recipe), hooks: ownHooks(recipe), overlay: false };
  const parts = layers.map((l): Part => ({ name: l.name, folder: l.folder, source: l.source, data: l.layer, hooks: l.hooks, overlay: l.hasOverlay }));
  const merged = mergeLayers(recipe, own, parts, (path) => valueAt(given, path) !== undefined);
  if (merged.errors.length) throw UserError.of(merged.errors);
  machineDefaults(merged.recipe, valueAt(given, ['disk']) !== undefined);
  const issues = validate(merged.recipe, (path) => merged.origins.of(path), options.service === true);
  if (issues.length) throw UserError.of(issues.map((i) => merged.origins.diagnostic(i)));
  return { recipe: merged.recipe, layers, origins: merged.origins, file, folder };
}

/** Every layer name on the search path, once: what an unknown name is compared with. */
function layerNames(path: readonly string[]): string[] {
  return [...new Set(listLayers(path).map((l) => l.name))].filter((n) => LAYER_NAME.test(n) && !RESERVED.includes(n));
}

/** `--layer NAME`: a layer kiln can find, or an error that names the flag and the layers there are. */
function checkExtraLayers(names: readonly string[], path: readonly string[]): void {
  for (const name of names) {
    if (LAYER_NAME.test(name) && !RESERVED.includes(name) && findLayer(name, path)) continue;
    const near = nearestAll(name, layerNames(path));
    throw new UserError(`--layer ${name}: no such layer${near.length ? ` (did you mean ${near.join(' or ')}?)` : ''}; kiln looks in the recipe's layers/ folder, then KILN_LAYER_PATH, then its built-in layers (kiln layers list shows them)`);
  }
}

/** The Raspberry Pi's disk: an MBR with the FAT partition its firmware boots from, and root. */
const RPI_DISK: Recipe['disk'] = {
  table: 'mbr',
  layout: 'plain',
  size: 'auto',
  partitions: [
    { name: 'firmware', type: 'fat32', size: '512M', fs: 'vfat', mount: '/boot/firmware', grow: false },
    { name: 'root', type: 'linux', size: 'rest', fs: 'ext4', mount: '/', grow: true },
  ],
};

/**
 * Defaults that depend on the merged recipe (a layer may choose the bootloader): the consoles of
 * the machine when no console= was named, and the Raspberry Pi disk when the recipe has no disk.
 */
function machineDefaults(recipe: Recipe, hasDisk: boolean): void {
  if (!recipe.kernel.cmdline.some((arg) => arg.startsWith('console=')) && (ARCH_NAMES as readonly string[]).includes(recipe.arch)) {
    recipe.kernel.cmdline = [...defaultConsoles(recipe.arch, recipe.bootloader), ...recipe.kernel.cmdline];
  }
  if (recipe.bootloader === 'rpi-firmware' && !hasDisk) recipe.disk = structuredClone(RPI_DISK);
}

/** The kernel package of the recipe's architecture, where the recipe names none. */
/** An A/B disk without partitions gets the ESP, a 2G slot and a data partition, not one root that takes the rest. */
function abDefaults(input: unknown): void {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return;
  const disk = (input as Record<string, unknown>).disk;
  if (!disk || typeof disk !== 'object' || Array.isArray(disk)) return;
  const d = disk as Record<string, unknown>;
  if (d.layout === 'ab' && d.partitions === undefined) d.partitions = AB_PARTITIONS.map((p) => ({ ...p }));
}

function archDefaults(input: unknown): void {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return;
  const recipe = input as Record<string, unknown>;
  const arch = recipe.arch ?? 'amd64';
  if (typeof arch !== 'string' || !(ARCH_NAMES as readonly string[]).includes(arch)) return;
  const kernel = recipe.kernel ?? {};
  if (!kernel || typeof kernel !== 'object' || Array.isArray(kernel)) return;
  recipe.kernel = { package: archInfo(arch).kernel, ...kernel };
}

/**
 * The recipe's layers in the order they apply. A partition with `grow: true` brings in the
 * growroot layer, which is what grows it; `health` (in the recipe or a layer) the health layer,
 * which runs the checks; `disk.layout: ab` the ab layer, which installs updates into the other slot.
 */
function resolveLayers(source: SourceFile, recipe: RecipeInput, folder: string, set: Record<string, string>, env: Record<string, string | undefined>): LayerDef[] {
  const path = searchPath(folder, env);
  const roots = [...recipe.layers];
  if (recipe.disk.partitions.some((p) => p.grow) && !roots.includes('growroot')) roots.push('growroot');
  if (recipe.health && !roots.includes('health')) roots.push('health');
  if (recipe.disk.layout === 'ab' && !roots.includes('ab')) roots.push('ab');
  const recipeVariables = Object.fromEntries(Object.entries(recipe.variables).map(([k, v]) => [k, String(v)]));
  const loaded = new Map<string, LayerDef>();
  const dependsOf = (name: string) => {
    const known = loaded.get(name);
    if (known) return dependsOn(known.layer);
    const found = RESERVED.includes(name) ? undefined : findLayer(name, path);
    if (!found) return undefined;
    if (found.startsWith(`${join(folder, 'layers')}/`)) {
      // The recipe's own layers/ is part of its folder: a link out of it is refused like any other.
      const inside = resolveInside(folder, relative(folder, found));
      if ('error' in inside) {
        const at = recipe.layers.indexOf(name);
        const message = `layers/${name} ${inside.error} (for layers kept elsewhere, name their folder in KILN_LAYER_PATH)`;
        throw UserError.of([at < 0 ? { file: source.file, message } : source.diagnostic({ path: ['layers', at], message })]);
      }
    }
    const result = loadLayer(name, found, set, env, recipeVariables);
    if ('errors' in result) throw UserError.of(result.errors);
    loaded.set(name, result.layer);
    return dependsOn(result.layer.layer);
  };
  const order = resolveOrder(roots, dependsOf, (name) => nearestAll(name, layerNames(path)));
  if (!Array.isArray(order)) {
    const where = order.layer === undefined ? source : loaded.get(order.layer)?.source ?? source;
    throw UserError.of([where.diagnostic({ path: order.path, message: order.message })]);
  }
  return order.map((name) => loaded.get(name)).filter((l): l is LayerDef => l !== undefined);
}

/** A layer's `depends`, and the health layer for a layer with health checks. */
function dependsOn(layer: LayerInput): string[] {
  const depends = layer.depends ?? [];
  return layer.health && !depends.includes('health') ? [...depends, 'health'] : depends;
}

/** The recipe's own lists, in the shape layers have. */
function ownLists(r: RecipeInput): Part['data'] {
  return {
    packages: r.packages,
    exclude: r.exclude,
    include: r.include,
    groups: r.groups,
    users: r.users,
    services: r.services,
    firewall: r.firewall,
    ntp: r.ntp,
    directories: r.directories,
    files: r.files,
    apt: r.apt,
    kernel: r.kernel,
    sbom: r.sbom,
    health: r.health,
  };
}

/** The recipe's hooks run in lexical order of their file names, per phase. */
function ownHooks(r: RecipeInput): Record<HookPhase, string[]> {
  const name = (p: string) => p.slice(p.lastIndexOf('/') + 1);
  const out = {} as Record<HookPhase, string[]>;
  for (const phase of HOOK_PHASES) out[phase] = [...r.hooks[phase]].sort((a, b) => lexical(name(a), name(b)) || lexical(a, b));
  return out;
}
