/**
 * Merges layers into a recipe. Lists merge in order (the layers in resolution order, the recipe
 * last); lists of names keep each name once, at its last place. A scalar the recipe sets wins; one
 * that layers set must be set alike by all of them, or the recipe must choose.
 */
import { HEALTH_KINDS, HOOK_PHASES, type HookPhase, type Keyboard, type LayerInput, type Recipe, type RecipeInput } from './schema.js';
import { ARCH_NAMES } from '../arch/table.js';
import type { Diagnostic } from '../diagnostics.js';
import { Origins, type Origin } from './origins.js';
import { formatPath, show, type Issue, type KeyPath, type SourceFile } from './source.js';


export interface Part {
  /** "recipe", or the layer's name. */
  name: string;
  folder: string;
  source: SourceFile;
  data: LayerInput;
  /** Hook scripts per phase, relative to `folder`, in the order they run. */
  hooks: Record<HookPhase, string[]>;
  /** The part has an overlay/ folder, copied to / before its own files. */
  overlay: boolean;
}

export interface Merged {
  recipe: Recipe;
  origins: Origins;
  errors: Diagnostic[];
}

type Entry<T> = { value: T; origin: Origin };

/** `explicit` says whether the recipe itself wrote the key at a path (rather than a default). */
export function mergeLayers(recipe: RecipeInput, own: Part, layers: readonly Part[], explicit: (path: KeyPath) => boolean): Merged {
  const parts = [...layers, own];
  const origins = new Origins({ name: own.name, folder: own.folder, source: own.source });
  const errors: Diagnostic[] = [];
  const originOf = (part: Part, path: KeyPath): Origin => ({ name: part.name, folder: part.folder, source: part.source, path });
  const fail = (part: Part, issue: Issue) => errors.push(part.source.diagnostic(issue));

  function list<T>(key: KeyPath, entries: (part: Part) => Entry<T>[], nameOf?: (value: T) => string): T[] {
    const all = parts.flatMap(entries);
    let kept = all;
    if (nameOf) {
      const last = new Map(all.map((e, i) => [nameOf(e.value), i]));
      kept = all.filter((e, i) => last.get(nameOf(e.value)) === i);
      for (const e of all) origins.ask(formatPath(key), nameOf(e.value), e.origin.name);
    }
    kept.forEach((e, i) => origins.set([...key, i], e.origin));
    return kept.map((e) => e.value);
  }
  const plain = <T>(key: KeyPath, get: (data: LayerInput) => T[] | undefined) => (part: Part) =>
    (get(part.data) ?? []).map((value, i) => ({ value, origin: originOf(part, [...key, i]) }));
  const same = (value: string) => value;

  function scalar<T extends string>(path: KeyPath, get: (data: LayerInput) => T | undefined, fallback: T, recipeChooses = explicit(path)): T {
    if (recipeChooses) return fallback;
    const setters = layers.filter((l) => get(l.data) !== undefined);
    const [first] = setters;
    if (!first) return fallback;
    const chosen = get(first.data) as T;
    for (const other of setters.slice(1)) {
      const value = get(other.data) as T;
      if (value === chosen) continue;
      fail(other, {
        path,
        message: `${show(value)} conflicts with ${show(chosen)} from layer "${first.name}" (${first.source.where(path)}); set ${formatPath(path)} in the recipe to choose`,
      });
    }
    origins.set(path, originOf(first, path));
    return chosen;
  }

  const packages = list(
    ['packages'],
    (part) =>
      (part.data.packages ?? []).flatMap((p, i): Entry<string>[] => {
        if (typeof p === 'string') return [{ value: p, origin: originOf(part, ['packages', i]) }];
        p.arch.forEach((a, j) => (ARCH_NAMES as readonly string[]).includes(a) || fail(part, { path: ['packages', i, 'arch', j], message: `${show(a)} is not an architecture (${ARCH_NAMES.join(', ')})` }));
        return p.arch.includes(recipe.arch) ? [{ value: p.name, origin: originOf(part, ['packages', i, 'name']) }] : [];
      }),
    (name) => name.replace(/[:=].*$/, ''),
  );
  const files = list(['files'], (part) => [
    ...(part.overlay ? [{ value: { src: 'overlay/', dst: '/' }, origin: originOf(part, []) }] : []),
    ...plain(['files'], (d) => d.files)(part),
  ]);
  const hooks = {} as Record<HookPhase, string[]>;
  for (const phase of HOOK_PHASES) hooks[phase] = list(['hooks', phase], (part) => part.hooks[phase].map((value, i) => ({ value, origin: originOf(part, ['hooks', phase, i]) })));
  const explicitRoot = explicit(['root_password']) || explicit(['root_password_hash']);

  const merged: Recipe = {
    ...recipe,
    packages,
    exclude: list(['exclude'], plain(['exclude'], (d) => d.exclude), same),
    include: list(['include'], plain(['include'], (d) => d.include), same),
    groups: list(['groups'], plain(['groups'], (d) => d.groups), (g) => g.name),
    users: list(['users'], plain(['users'], (d) => d.users)),
    services: {
      enable: list(['services', 'enable'], plain(['services', 'enable'], (d) => d.services?.enable), same),
      disable: list(['services', 'disable'], plain(['services', 'disable'], (d) => d.services?.disable), same),
      mask: list(['services', 'mask'], plain(['services', 'mask'], (d) => d.services?.mask), same),
    },
    // Present when any part sets it: a layer can bring the firewall, the recipe open more ports.
    firewall: parts.some((p) => p.data.firewall !== undefined)
      ? {
          ports: list(['firewall', 'ports'], plain(['firewall', 'ports'], (d) => d.firewall?.ports), same),
          services: {
            enable: list(['firewall', 'services', 'enable'], plain(['firewall', 'services', 'enable'], (d) => d.firewall?.services?.enable), same),
            disable: list(['firewall', 'services', 'disable'], plain(['firewall', 'services', 'disable'], (d) => d.firewall?.services?.disable), same),
          },
        }
      : undefined,
    ntp: list(['ntp'], plain(['ntp'], (d) => d.ntp), same),
    directories: list(['directories'], plain(['directories'], (d) => d.directories)),
    files,
    apt: { sources: list(['apt', 'sources'], plain(['apt', 'sources'], (d) => d.apt?.sources), (s) => s.name) },
    hooks,
    kernel: {
      package: scalar(['kernel', 'package'], (d) => d.kernel?.package, recipe.kernel.package),
      cmdline: list(['kernel', 'cmdline'], plain(['kernel', 'cmdline'], (d) => d.kernel?.cmdline), same),
      initramfs_modules: list(['kernel', 'initramfs_modules'], plain(['kernel', 'initramfs_modules'], (d) => d.kernel?.initramfs_modules), same),
      // The recipe's own choice: a layer cannot make an image's kernel a UKI.
      uki: recipe.kernel.uki,
    },
    sbom: list(['sbom'], plain(['sbom'], (d) => d.sbom), same),
    timezone: scalar(['timezone'], (d) => d.timezone, recipe.timezone),
    locale: scalar(['locale'], (d) => d.locale, recipe.locale),
    bootloader: scalar(['bootloader'], (d) => d.bootloader, recipe.bootloader),
    compress: scalar(['compress'], (d) => d.compress, recipe.compress),
  };
  const optional = (path: KeyPath, get: (d: LayerInput) => string | undefined, value: string | undefined, recipeChooses = explicit(path)) => {
    const chosen = scalar(path, get, value ?? '', recipeChooses);
    return chosen === '' ? undefined : chosen;
  };
  merged.hostname = optional(['hostname'], (d) => d.hostname, recipe.hostname);
  merged.root_password = optional(['root_password'], (d) => d.root_password, recipe.root_password, explicitRoot);
  merged.root_password_hash = optional(['root_password_hash'], (d) => d.root_password_hash, recipe.root_password_hash, explicitRoot);
  // One value, compared whole: two layers asking for different keyboards must be settled by the recipe.
  const keyboard = optional(['keyboard'], (d) => keyboardText(d.keyboard), keyboardText(recipe.keyboard));
  merged.keyboard = keyboard === undefined ? undefined : (JSON.parse(keyboard) as Keyboard);
  // Present when any part sets it: each part's scripts; boot_tries is a scalar like the others.
  if (parts.some((p) => p.data.health !== undefined)) {
    merged.health = Object.fromEntries(HEALTH_KINDS.map((kind) => [kind, list(['health', kind], plain(['health', kind], (d) => d.health?.[kind]))]));
    const tries = optional(['health', 'boot_tries'], (d) => d.health?.boot_tries?.toString(), recipe.health?.boot_tries?.toString());
    if (tries !== undefined) merged.health.boot_tries = Number(tries);
  }
  mergeAnsible(merged, layers, fail, originOf, origins);
  return { recipe: merged, origins, errors };
}

/** A keyboard as canonical JSON, so equal settings written differently compare equal. */
function keyboardText(k: Keyboard | undefined): string | undefined {
  return k && JSON.stringify({ layout: k.layout, variant: k.variant, model: k.model, options: k.options });
}

/** One playbook per image (a playbook can import others): the recipe's, else the one layer's that sets it. */
function mergeAnsible(merged: Recipe, layers: readonly Part[], fail: (part: Part, issue: Issue) => void, originOf: (part: Part, path: KeyPath) => Origin, origins: Origins): void {
  const [first, ...others] = layers.filter((l) => l.data.ansible !== undefined);
  if (merged.ansible !== undefined || !first) return;
  for (const other of others) {
    fail(other, { path: ['ansible'], message: `conflicts with the playbook of layer "${first.name}" (${first.source.where(['ansible'])}); an image applies one playbook: set ansible in the recipe to choose (one playbook can import others)` });
  }
  merged.ansible = first.data.ansible;
  origins.set(['ansible'], originOf(first, ['ansible']));
}
