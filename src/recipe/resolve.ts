/**
 * The order layers apply in: depth-first by `depends`, each layer once, dependencies before the
 * layers that need them, in the order they are named. Pure: finding a layer is the caller's.
 */
import type { KeyPath } from './source.js';

export interface ResolveFailure {
  /** Where the bad name is written: the recipe (undefined) or a layer's name. */
  layer: string | undefined;
  path: KeyPath;
  message: string;
}

/**
 * `dependsOf` gives a layer's `depends` list, or undefined for a layer that does not exist;
 * `nearest` suggests names for an unknown one.
 */
export function resolveOrder(roots: readonly string[], dependsOf: (name: string) => readonly string[] | undefined, nearest: (name: string) => string[]): string[] | ResolveFailure {
  const order: string[] = [];
  const done = new Set<string>();
  const stack: string[] = [];

  function visit(name: string, layer: string | undefined, path: KeyPath): ResolveFailure | undefined {
    if (done.has(name)) return undefined;
    const at = stack.indexOf(name);
    if (at >= 0) return { layer, path, message: `layers depend on each other in a cycle: ${[...stack.slice(at), name].join(' -> ')}` };
    const depends = dependsOf(name);
    if (depends === undefined) {
      const guesses = nearest(name);
      const hint = guesses.length ? ` (did you mean ${guesses.map((g) => `"${g}"`).join(' or ')}?)` : '';
      return { layer, path, message: `unknown layer "${name}"${hint}; kiln looks in the recipe's layers/ folder, then KILN_LAYER_PATH, then its built-in layers (kiln layers list shows them)` };
    }
    stack.push(name);
    for (const [i, dependency] of depends.entries()) {
      const failure = visit(dependency, name, ['depends', i]);
      if (failure) return failure;
    }
    stack.pop();
    done.add(name);
    order.push(name);
    return undefined;
  }

  for (const [i, root] of roots.entries()) {
    const failure = visit(root, undefined, ['layers', i]);
    if (failure) return failure;
  }
  return order;
}
