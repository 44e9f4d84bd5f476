/** The hostname an image gets: the recipe's `hostname`, else one made from its name. */
import type { Recipe } from './schema.js';

/** A name may hold "." and "_", a hostname label neither: both become "-". */
export function imageHostname(r: Pick<Recipe, 'hostname' | 'name'>): string {
  return r.hostname ?? r.name.replace(/[._]/g, '-');
}
