/**
 * Where kiln keeps its stage store and package cache. A module of its own: the command line names
 * the folder in its help, and opens the store only in the commands that use it.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function cacheDir(): string {
  return process.env.KILN_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kiln');
}

/** The store in cacheDir(), its module loaded on first use. */
export async function openStore(): Promise<import('../store/store.js').Store> {
  const { Store } = await import('../store/store.js');
  return new Store(cacheDir());
}
