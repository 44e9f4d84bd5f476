/**
 * The new-build form's rules: each variable of the recipe and its layers starts at its default, must
 * match its pattern, and only values that differ from the default are sent (the server fills in
 * the rest, so a later default change in a layer is not frozen into the request). Pure.
 */
import type { z } from 'zod';
import type { RecipeVariable } from '../../service/protocol.js';

export type Variable = z.infer<typeof RecipeVariable>;

/** Why `value` is not allowed for `v`, or undefined when it is. */
export function checkVariable(v: Variable, value: string): string | undefined {
  if (value.length > 65536) return `${v.name}: at most 65,536 characters`;
  if (v.pattern === undefined) return undefined;
  let re: RegExp;
  try {
    re = new RegExp(v.pattern);
  } catch {
    return undefined; // the server checks patterns it cannot compile and says so
  }
  return re.test(value) ? undefined : `${v.name}: "${value}" does not match the pattern ${v.pattern}`;
}

/** The `set` of a build request, or the messages that stop it. */
export function buildSet(vars: readonly Variable[], values: Record<string, string>): { set: Record<string, string> } | { errors: Record<string, string> } {
  const set: Record<string, string> = {};
  const errors: Record<string, string> = {};
  for (const v of vars) {
    const value = values[v.name] ?? v.default ?? '';
    const error = v.default === undefined && value === '' ? `${v.name}: needs a value (it has no default)` : checkVariable(v, value);
    if (error) errors[v.name] = error;
    else if (value !== v.default) set[v.name] = value;
  }
  return Object.keys(errors).length ? { errors } : { set };
}
