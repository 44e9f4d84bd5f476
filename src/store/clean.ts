/**
 * Which stage entries `kiln cache clean` removes. Pure, so the policy is tested without a store.
 *
 * --keep-last N: a build's result is a chain of entries ending in a leaf (an entry nothing is stacked
 * on). Per recipe file, the N leaves used last are kept with every entry under them; any entry that
 * no kept leaf stands on goes. Entries two recipes share (the same bootstrap) stay while either needs them.
 */

export interface CleanEntry {
  id: string;
  input: string | null;
  /** The recipe file that made the entry. */
  recipe: string;
  bytes: number;
  lastUsed: Date;
}

/** `recipe`: only that recipe's builds are thinned; the others keep all of theirs. */
export function chooseKeepLast(entries: readonly CleanEntry[], keep: number, recipe?: string): Set<string> {
  const byId = new Map(entries.map((e) => [e.id, e]));
  const stackedOn = new Set(entries.flatMap((e) => (e.input ? [e.input] : [])));
  const leaves = entries.filter((e) => !stackedOn.has(e.id));
  const groups = new Map<string, CleanEntry[]>();
  for (const leaf of leaves) groups.set(leaf.recipe, [...(groups.get(leaf.recipe) ?? []), leaf]);
  const kept = new Set<string>();
  for (const [file, group] of groups) {
    const newest = [...group].sort((a, b) => b.lastUsed.getTime() - a.lastUsed.getTime() || a.id.localeCompare(b.id));
    for (const leaf of recipe === undefined || file === recipe ? newest.slice(0, keep) : newest) {
      for (let e: CleanEntry | undefined = leaf; e && !kept.has(e.id); e = e.input ? byId.get(e.input) : undefined) kept.add(e.id);
    }
  }
  return new Set(entries.filter((e) => !kept.has(e.id)).map((e) => e.id));
}

/** --from: the entries of `ids` (a stage and every later one of a recipe's plan) and all stacked on them. */
export function chooseFrom(entries: readonly CleanEntry[], ids: readonly string[]): Set<string> {
  const remove = new Set(ids.filter((id) => entries.some((e) => e.id === id)));
  for (let grew = true; grew; ) {
    grew = false;
    for (const e of entries) {
      if (e.input && remove.has(e.input) && !remove.has(e.id)) {
        remove.add(e.id);
        grew = true;
      }
    }
  }
  return remove;
}
