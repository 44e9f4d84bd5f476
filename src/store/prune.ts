/** Which cache items `kiln cache prune` removes: pure, so the policy is tested without a store. */

export interface CacheItem {
  key: string;
  /** A stage entry, a cached .deb, one set of kept apt package lists (apt-lists.ts), or a native toolbox (stages/native-tools.ts). */
  kind: 'stage' | 'package' | 'lists' | 'native';
  bytes: number;
  lastUsed: Date;
  /** A stage entry's input (the entry its tree stacks on); null for the first stage. */
  input?: string | null;
}

export interface PrunePolicy {
  maxBytes?: number;
  olderThanMs?: number;
  now: Date;
}

/**
 * Least recently used first: items unused for longer than `olderThanMs` go, then the oldest until
 * the rest fits in `maxBytes`. Stage entries whose input is gone (pruned now or earlier) go too:
 * their layer is useless without the layers below it.
 */
export function choosePrune(items: readonly CacheItem[], policy: PrunePolicy): Set<string> {
  const remove = new Set<string>();
  const stages = new Map(items.filter((i) => i.kind === 'stage').map((i) => [i.key, i]));
  const dependents = new Map<string, CacheItem[]>();
  for (const item of stages.values()) if (item.input) dependents.set(item.input, [...(dependents.get(item.input) ?? []), item]);
  /** Removes an item and everything stacked on it; returns the bytes freed. */
  const drop = (item: CacheItem): number => {
    if (remove.has(item.key)) return 0;
    remove.add(item.key);
    return item.bytes + (dependents.get(item.key) ?? []).reduce((sum, d) => sum + drop(d), 0);
  };
  for (const item of stages.values()) if (item.input && !stages.has(item.input)) drop(item);
  if (policy.olderThanMs !== undefined) {
    const limit = policy.now.getTime() - policy.olderThanMs;
    for (const item of items) if (item.lastUsed.getTime() < limit) drop(item);
  }
  if (policy.maxBytes !== undefined) {
    let total = items.filter((i) => !remove.has(i.key)).reduce((sum, i) => sum + i.bytes, 0);
    const oldestFirst = [...items].sort((a, b) => a.lastUsed.getTime() - b.lastUsed.getTime() || a.key.localeCompare(b.key));
    for (const item of oldestFirst) {
      if (total <= policy.maxBytes) break;
      total -= drop(item);
    }
  }
  return remove;
}

const DURATION = /^(\d+)([smhdw])$/;
const SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** `30m`, `12h`, `14d`, `2w` → milliseconds; undefined if it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * (SECONDS[m[2] ?? ''] ?? 0) * 1000;
}
