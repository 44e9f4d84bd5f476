/**
 * Any recipe a user can write, valid or not, ends in a plan or a positioned UserError (exit 0 or 2),
 * never in anything else (exit 70, "internal error"); and the plan of a valid one is the same bytes
 * every time. Inputs are the examples and test fixtures mutated at the byte, line and value level,
 * and recipes generated from the schema's own keys with values good and bad.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { isMap, isSeq, parseDocument, visit } from 'yaml';
import { propertyParameters } from '../testing/property.js';
import { check } from './plan-outcome.js';
import { anyRecipe, anyValue } from './recipe-arbitraries.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const SOURCES = [
  ...readdirSync(join(REPO, 'examples')).filter((f) => f.endsWith('.yaml')).map((f) => join(REPO, 'examples', f)),
  ...['layered/recipe.yaml', 'reproducible/recipe.yaml', 'outputs/disk.yaml', 'outputs/container.yaml', 'lock/small.yaml'].map((f) => join(REPO, 'test/e2e/fixtures', f)),
].map((file) => ({ file, text: readFileSync(file, 'utf8') }));

const source = fc.constantFrom(...SOURCES);

const byteEdit = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom('insert', 'delete', 'replace'),
  text: fc.oneof(
    fc.constantFrom(':', '-', '[', ']', '{', '}', '&a', '*a', '!', '#', '"', "'", '\t', '\0', '\n', '  ', '|', '>', '%', '@', '`', '\u202e', '\ufeff', '${', '${X}', '\\'),
    fc.string({ maxLength: 4, unit: 'binary' }),
  ),
});

function applyByte(text: string, e: { at: number; kind: string; text: string }): string {
  const at = text.length ? e.at % text.length : 0;
  if (e.kind === 'insert') return text.slice(0, at) + e.text + text.slice(at);
  if (e.kind === 'delete') return text.slice(0, at) + text.slice(at + 1 + (e.at % 5));
  return text.slice(0, at) + e.text + text.slice(at + e.text.length);
}

const lineEdit = fc.record({ a: fc.nat(), b: fc.nat(), kind: fc.constantFrom('swap', 'delete', 'duplicate', 'indent', 'dedent', 'truncate') });

function applyLine(text: string, e: { a: number; b: number; kind: string }): string {
  const lines = text.split('\n');
  const a = e.a % lines.length;
  const b = e.b % lines.length;
  const line = lines[a] ?? '';
  if (e.kind === 'swap') [lines[a], lines[b]] = [lines[b] ?? '', line];
  else if (e.kind === 'delete') lines.splice(a, 1);
  else if (e.kind === 'duplicate') lines.splice(b, 0, line);
  else if (e.kind === 'indent') lines[a] = `  ${line}`;
  else if (e.kind === 'dedent') lines[a] = line.replace(/^ {1,2}/, '');
  else return text.slice(0, (e.a * 7919) % (text.length + 1));
  return lines.join('\n');
}

/** Replaces, removes or adds a value at a random place of the parsed document, then writes it back. */
function applyValue(text: string, e: { at: number; kind: string; value: unknown; key: string }): string {
  const doc = parseDocument(text);
  const paths: (string | number)[][] = [];
  visit(doc, {
    Node(_k, _n, path) {
      const keys: (string | number)[] = [];
      for (let i = 1; i < path.length; i++) {
        const parent = path[i - 1];
        const node = path[i] as { key?: { value?: unknown } };
        if (isMap(parent) && node.key) keys.push(String(node.key.value));
        if (isSeq(parent)) keys.push(parent.items.indexOf(node));
      }
      paths.push(keys);
    },
  });
  const path = paths[e.at % Math.max(1, paths.length)] ?? [];
  try {
    if (e.kind === 'delete' && path.length) doc.deleteIn(path);
    else if (e.kind === 'add') doc.setIn([...path, e.key], e.value);
    else if (path.length) doc.setIn(path, e.value);
    return doc.toString();
  } catch {
    return text;
  }
}

const valueEdit = fc.record({ at: fc.nat(), kind: fc.constantFrom('set', 'delete', 'add'), value: anyValue, key: fc.constantFrom('name', 'size', 'fs', 'extra', 'arch', 'dst', 'src', 'packages', '<<') });

void test('mutated examples and fixtures plan or fail with a positioned UserError, deterministically', () => {
  fc.assert(
    fc.property(source, fc.array(fc.oneof(byteEdit.map((e) => (t: string) => applyByte(t, e)), lineEdit.map((e) => (t: string) => applyLine(t, e)), valueEdit.map((e) => (t: string) => applyValue(t, e))), { minLength: 1, maxLength: 4 }), (src, edits) => {
      check(src.file, edits.reduce((text, edit) => edit(text), src.text));
    }),
    propertyParameters(1000),
  );
});

void test('recipes generated from the schema plan or fail with a positioned UserError, deterministically', () => {
  const file = join(REPO, 'examples', 'generated.yaml');
  fc.assert(
    fc.property(anyRecipe, (text) => check(file, text)),
    propertyParameters(800),
  );
});
