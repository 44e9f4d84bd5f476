/**
 * A translation as recipe YAML: keys in the order RECIPE.md shows them, a comment wherever a value
 * was translated, and a map from each YAML line back to the blueprint line it came from, so that
 * the recipe loader's messages about the translated recipe still point into the blueprint.
 */
import { Document, isMap, isScalar, LineCounter, parseDocument, type Node } from 'yaml';
import type { KeyPath } from '../recipe/source.js';
import type { Translation } from './context.js';
import type { TomlPos } from './toml-positions.js';

const ORDER = ['name', 'distro', 'arch', 'packages', 'apt', 'hostname', 'timezone', 'locale', 'keyboard', 'ntp', 'root_password', 'root_password_hash', 'groups', 'users', 'services', 'firewall', 'directories', 'files', 'kernel', 'disk', 'bootloader', 'outputs'];

export interface RecipeYaml {
  text: string;
  /** The blueprint position of a line of `text` (1-based). */
  origin(line: number): TomlPos;
}

export function recipeYaml(t: Translation, source: string): RecipeYaml {
  const ordered = Object.fromEntries(
    Object.entries(t.recipe)
      .sort(([a], [b]) => rank(a) - rank(b))
      .map(([k, v]) => [k, escapeVariables(v)]),
  );
  const doc = new Document(ordered);
  const header = [`Translated by kiln import from the blueprint ${source}.`, ...t.header];
  doc.commentBefore = header.map((l) => (l ? ` ${l}` : '')).join('\n');
  for (const [key, note] of t.notes) comment(doc, JSON.parse(key) as KeyPath, note);
  const text = doc.toString({ lineWidth: 0 });
  return { text, origin: lineOrigins(t, text) };
}

function rank(key: string): number {
  const i = ORDER.indexOf(key);
  return i < 0 ? ORDER.length : i;
}

/** Blueprint strings are literal: `${` would read as a kiln variable, so it is written `$${`. */
function escapeVariables(value: unknown): unknown {
  if (typeof value === 'string') return value.replaceAll('${', () => '$${');
  if (Array.isArray(value)) return value.map(escapeVariables);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeVariables(v)]));
  return value;
}

/** A one-line scalar gets the comment at its end; anything else on the line before it. */
function comment(doc: Document, path: KeyPath, note: string): void {
  const node = doc.getIn(path, true) as Node | undefined;
  if (!node) return;
  const text = ` ${note}`;
  if (isScalar(node) && !(typeof node.value === 'string' && node.value.includes('\n'))) {
    node.comment = node.comment ? `${node.comment};${text}` : text;
    return;
  }
  const parent: unknown = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  const last = path[path.length - 1];
  if (isMap(parent)) {
    const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === last);
    if (pair && isScalar(pair.key)) {
      pair.key.commentBefore = pair.key.commentBefore ? `${pair.key.commentBefore}\n${text}` : text;
      return;
    }
  }
  node.commentBefore = node.commentBefore ? `${node.commentBefore}\n${text}` : text;
}

/** For each YAML line, the blueprint position of the most specific recipe value that covers it. */
function lineOrigins(t: Translation, text: string): (line: number) => TomlPos {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const best = new Map<number, { span: number; pos: TomlPos }>();
  for (const [key, from] of t.origins) {
    const range = rangeOf(doc, JSON.parse(key) as KeyPath);
    if (!range) continue;
    const pos = t.positions.of(from);
    const span = range[1] - range[0];
    const first = lines.linePos(range[0]).line;
    const last = lines.linePos(Math.max(range[0], range[1] - 1)).line;
    for (let line = first; line <= last; line++) {
      const old = best.get(line);
      if (!old || span < old.span) best.set(line, { span, pos });
    }
  }
  return (line) => {
    for (let l = line; l > 0; l--) {
      const found = best.get(l);
      if (found) return found.pos;
    }
    return { line: 1, col: 1 };
  };
}

/** The text range of the value at `path`, from its key when it has one. */
function rangeOf(doc: Document, path: KeyPath): [number, number] | undefined {
  const node = doc.getIn(path, true) as Node | undefined;
  const range = node?.range;
  if (!range) return undefined;
  const parent: unknown = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  if (isMap(parent)) {
    const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === path[path.length - 1]);
    const keyStart = isScalar(pair?.key) ? pair.key.range?.[0] : undefined;
    if (keyStart !== undefined) return [keyStart, range[1]];
  }
  return [range[0], range[1]];
}
