/**
 * `kiln cache clean`: edi's recursive clean. `--keep-last N` keeps each recipe's N builds used
 * last; `RECIPE --from STAGE` drops that stage of the recipe and everything after it, so the next
 * build starts there. Holds the store lock exclusively, as prune does: no build is using a layer.
 */
import { join, resolve } from 'node:path';
import { planRecipe } from '../engine/plan.js';
import { removeAbandoned } from '../engine/workspace.js';
import { UserError } from '../errors.js';
import type { LoadOptions } from '../recipe/index.js';
import { chooseFrom, chooseKeepLast, type CleanEntry } from '../store/clean.js';
import { folderOf, type Store } from '../store/store.js';
import { formatBytes } from './cache.js';

export function keepLastCount(value: string): string {
  if (!/^\d+$/.test(value)) throw new UserError(`--keep-last ${value}: expected a whole number (0 or more)`);
  return value;
}

export interface CleanRequest {
  recipe?: string;
  keepLast?: number;
  from?: string;
  load: LoadOptions;
  onWait: () => void;
  signal: AbortSignal;
}

export async function cleanCache(store: Store, request: CleanRequest): Promise<string> {
  if ((request.keepLast === undefined) === (request.from === undefined)) {
    throw new UserError('kiln cache clean: give --keep-last N, or a recipe with --from STAGE (e.g. kiln cache clean recipe.yaml --from ansible)');
  }
  let fromIds: string[] | undefined;
  if (request.from !== undefined) {
    if (request.recipe === undefined) throw new UserError(`--from ${request.from}: name the recipe whose stages to drop (kiln cache clean RECIPE --from ${request.from})`);
    const { manifest } = planRecipe(request.recipe, request.load);
    const index = manifest.stages.findIndex((s) => s.stage === request.from);
    if (index < 0) throw new UserError(`--from ${request.from}: this recipe has no such stage; its stages are: ${manifest.stages.map((s) => s.stage).join(', ')}`);
    fromIds = manifest.stages.slice(index).map((s) => s.id);
  }
  const held = await store.exclusive({ onWait: request.onWait, signal: request.signal });
  try {
    removeAbandoned(join(store.dir, 'builds'));
    const listed = await store.list();
    const entries: CleanEntry[] = listed.map((e) => ({ id: e.id, input: e.input, recipe: e.recipe.file, bytes: e.bytes, lastUsed: e.lastUsed }));
    const chosen = fromIds ? chooseFrom(entries, fromIds) : chooseKeepLast(entries, request.keepLast ?? 0, request.recipe === undefined ? undefined : resolve(request.recipe));
    const lines: string[] = [];
    let bytes = 0;
    for (const e of listed.filter((l) => chosen.has(l.id))) {
      lines.push(`removed ${folderOf(e.id).slice(0, 12)}  ${e.stage.padEnd(16)} ${formatBytes(e.bytes).padStart(10)}  ${e.recipe.name}`);
      bytes += e.bytes;
      await store.remove(e.id);
    }
    store.emptyTrash();
    const left = listed.filter((l) => !chosen.has(l.id)).reduce((sum, e) => sum + e.bytes, 0);
    lines.push(`freed ${formatBytes(bytes)} (${chosen.size} stage entries); ${formatBytes(left)} in ${listed.length - chosen.size} entries left in ${store.dir}`);
    return `${lines.join('\n')}\n`;
  } finally {
    await held.release();
  }
}
