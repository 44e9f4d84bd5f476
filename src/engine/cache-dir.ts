/** Where kiln keeps its stage store and package cache. A module of its own: the command line names it in its help without loading the store. */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function cacheDir(): string {
  return process.env.KILN_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kiln');
}
