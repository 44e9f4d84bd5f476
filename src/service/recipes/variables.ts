/** A recipe's and its layers' variables, as the new-build form needs them. */
import type { z } from 'zod';
import type { LoadedRecipe } from '../../recipe/index.js';
import { VarName, type RecipeVariable } from '../protocol.js';

type Variable = z.infer<typeof RecipeVariable>;

export function recipeVariables(loaded: LoadedRecipe): Variable[] {
  const out: Variable[] = [];
  for (const [name, value] of Object.entries(loaded.recipe.variables ?? {})) {
    out.push({ name, default: String(value), from: 'recipe' });
  }
  for (const layer of loaded.layers) {
    for (const [name, spec] of Object.entries(layer.layer.variables ?? {})) {
      // The recipe's own default wins over the layer's, so the layer's entry only adds what is new.
      const own = out.find((v) => v.name === name && v.from === 'recipe');
      const entry: Variable = {
        name,
        from: layer.name,
        ...(spec.default !== undefined ? { default: String(spec.default) } : {}),
        ...(spec.pattern !== undefined ? { pattern: spec.pattern } : {}),
        ...(spec.description !== undefined ? { description: spec.description } : {}),
      };
      if (own) Object.assign(own, { ...entry, default: own.default });
      else out.push(entry);
    }
  }
  return out.filter((v) => VarName.safeParse(v.name).success).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
