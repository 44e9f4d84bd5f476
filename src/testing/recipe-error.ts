/** What parsing a recipe text in `folder` says: its UserError's message, or "no error" (for the validation tests' tables). */
import assert from 'node:assert/strict';
import { UserError } from '../errors.js';
import { parseRecipe } from '../recipe/load.js';

export function recipeError(folder: string, text: string): string {
  try {
    parseRecipe('r.yaml', text, folder, { env: {} });
  } catch (err) {
    assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
    return err.message;
  }
  return 'no error';
}
