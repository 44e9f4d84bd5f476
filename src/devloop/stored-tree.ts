/**
 * Which stored image root `kiln shell` and `kiln run` use: the stack of tree-stage layers under the
 * last tree stage of a recipe's plan, or of the build a build folder's build.json records. Nothing
 * here builds: a tree that is not in the store is a UserError that says how to make it.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readBuildRecord } from '../engine/build-record.js';
import { planRecipe } from '../engine/plan.js';
import type { LoadOptions } from '../recipe/index.js';
import { UserError } from '../errors.js';
import { stageByName } from '../stages/registry.js';
import { folderOf, type EntryMeta, type Store } from '../store/store.js';

export interface StoredTree {
  name: string;
  arch: string;
  /** The tree stages' store ids, bottom (bootstrap) first. */
  layers: string[];
  /** The stage whose tree is on top, and when it was made: for the user's "which tree is this". */
  top: { stage: string; created: string };
}

/** A build folder (with build.json) or a recipe file. */
export async function findStoredTree(store: Store, target: string, options: LoadOptions = {}): Promise<StoredTree> {
  if (existsSync(target) && statSync(target).isDirectory()) return fromBuildDir(store, target);
  return fromRecipe(store, target, options);
}

async function fromRecipe(store: Store, recipe: string, options: LoadOptions): Promise<StoredTree> {
  const { manifest } = planRecipe(recipe, options);
  const top = lastTree(manifest.stages.map((s) => ({ name: s.stage, id: s.id })));
  if (!top) throw new UserError(`${recipe}: the recipe has no stage that makes an image root`);
  const entry = await store.get(top.id);
  const flags = [options.arch ? ` --arch ${options.arch}` : '', ...Object.entries(options.set ?? {}).map(([k, v]) => ` --set ${k}=${v}`)].join('');
  if (!entry) {
    throw new UserError(
      `${recipe}: this recipe's image root is not in the stage store (${store.dir}): it was never built, or changed since its last build (its ${top.name} stage ${folderOf(top.id).slice(0, 12)} is not stored); build it first with: kiln build ${recipe}${flags}`,
    );
  }
  return { name: manifest.name, arch: manifest.arch, layers: await chain(store, entry, `kiln build ${recipe}${flags}`), top: { stage: entry.stage, created: entry.created } };
}

async function fromBuildDir(store: Store, dir: string): Promise<StoredTree> {
  const file = join(dir, 'build.json');
  if (!existsSync(file)) throw new UserError(`${dir}: not a build folder (it has no build.json); give a recipe file or the output folder of kiln build`);
  const record = readBuildRecord(file);
  const top = lastTree(record.stages);
  if (!top) throw new UserError(`${file}: the build records no stage that made an image root`);
  const entry = await store.get(top.id);
  const rebuild = `kiln build RECIPE -o ${dir}`;
  if (!entry) throw new UserError(`${dir}: the image root of this build is no longer in the stage store (${store.dir}): it was pruned or built with another KILN_CACHE; rebuild it with: ${rebuild}`);
  return { name: record.name, arch: record.arch, layers: await chain(store, entry, rebuild), top: { stage: entry.stage, created: entry.created } };
}

/** The last stage that changes the image root; later (image) stages only read it. */
export function lastTree(stages: readonly { name: string; id: string }[]): { name: string; id: string } | undefined {
  return stages.filter((s) => stageByName(s.name)?.kind === 'tree').at(-1);
}

/** The tree entries under `top` (itself included), bottom first, following each entry's input. */
async function chain(store: Store, top: EntryMeta, rebuild: string): Promise<string[]> {
  const layers: string[] = [];
  for (let entry: EntryMeta | undefined = top; entry; ) {
    if (entry.kind === 'tree') layers.unshift(entry.id);
    if (!entry.input) return layers;
    const below: EntryMeta | undefined = await store.get(entry.input);
    if (!below) throw new UserError(`the stored image root is incomplete (the layer ${folderOf(entry.input).slice(0, 12)} under ${entry.stage} is gone); rebuild it with: ${rebuild}`);
    entry = below;
  }
  return layers;
}
