/** Turns schema (zod) issues into kiln's messages: the key path, the bad value and what is valid. */
import type { z } from 'zod';
import { allowedFor } from './allowed.js';
import { show, type Issue, type KeyPath } from './source.js';

type Schema = z.core.$ZodType;

const EXPECTED: Record<string, string> = {
  array: 'a list',
  object: 'a mapping of keys to values',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  record: 'a mapping of keys to values',
};

export function valueAt(root: unknown, path: KeyPath): unknown {
  let node = root;
  for (const part of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[part];
  }
  return node;
}

export function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return show(value);
}

/** A schema without its defaults, optionals and transforms; of a union (a keyboard: a name or a mapping), its mapping. */
function unwrap(schema: Schema | undefined): Schema | undefined {
  let node = schema;
  for (;;) {
    const def = node?._zod.def as unknown as { type: string; innerType?: Schema; in?: Schema; options?: Schema[] } | undefined;
    if (def?.type === 'default' || def?.type === 'optional') node = def.innerType;
    else if (def?.type === 'pipe') node = def.in;
    else if (def?.type === 'union') node = def.options?.map(unwrap).find((o) => o?._zod.def.type === 'object');
    else return node;
  }
}

/** The object schema found by following `path` through defaults, optionals, unions and arrays. */
function objectKeysAt(schema: Schema, path: KeyPath): string[] {
  let node: Schema | undefined = schema;
  for (const part of [...path, '']) {
    node = unwrap(node);
    if (!node || part === '') break;
    const def = node._zod.def as unknown as { type: string; shape?: Record<string, Schema>; element?: Schema; valueType?: Schema };
    node = def.type === 'object' ? def.shape?.[part] : def.type === 'array' ? def.element : def.type === 'record' ? def.valueType : undefined;
  }
  const def = node?._zod.def as unknown as { type: string; shape?: Record<string, Schema> } | undefined;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = distance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** Up to three candidates close to `word`, closest first. */
export function nearestAll(word: string, candidates: readonly string[]): string[] {
  const limit = Math.max(2, Math.floor(word.length / 3));
  return candidates
    .map((c) => ({ c, d: distance(word.toLowerCase(), c.toLowerCase()) }))
    .filter((x) => x.d <= limit)
    .sort((a, b) => a.d - b.d || a.c.localeCompare(b.c))
    .slice(0, 3)
    .map((x) => x.c);
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

export function unknownKeyMessage(key: string, valid: readonly string[]): string {
  const guess = nearest(key, valid);
  return guess ? `unknown key (did you mean "${guess}"?)` : `unknown key (valid keys: ${valid.join(', ')})`;
}

/** A value outside its key's list in ALLOWED: "not yet" for what a later kiln takes, a reason where one is known. */
function notAllowed(value: unknown, values: readonly unknown[]): string {
  const allowed = allowedFor(values);
  const supported = `supported: ${values.map(String).join(', ')}`;
  if (typeof value === 'string' && allowed?.refused?.[value]) return allowed.refused[value];
  if (typeof value === 'string' && allowed?.later?.includes(value)) return `${show(value)} is not yet supported (${supported})`;
  return `${describe(value)} is not valid (${supported})`;
}

export function fromZod(schema: Schema, issues: readonly z.core.$ZodIssue[], input: unknown): Issue[] {
  const out: Issue[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    const value = valueAt(input, path);
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) {
          out.push({ path: [...path, key], atKey: true, message: unknownKeyMessage(key, objectKeysAt(schema, path)) });
        }
        break;
      case 'invalid_type':
        out.push({
          path,
          message:
            value === undefined
              ? 'is required'
              : `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${describe(value)}`,
        });
        break;
      case 'invalid_value':
        out.push({ path, message: notAllowed(value, issue.values) });
        break;
      case 'invalid_format':
        out.push({ path, message: `${describe(value)} ${issue.message}` });
        break;
      case 'too_small':
        out.push({ path, message: `${describe(value)} is too small (minimum ${String(issue.minimum)})` });
        break;
      case 'too_big':
        out.push({
          path,
          message: Array.isArray(value) ? `has ${value.length} entries, over the limit of ${String(issue.maximum)}` : `${describe(value)} is too big (maximum ${String(issue.maximum)})`,
        });
        break;
      default:
        out.push({ path, message: issue.message });
    }
  }
  return out;
}
