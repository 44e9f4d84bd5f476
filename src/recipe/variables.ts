/**
 * `${NAME}` and `${NAME:-default}` in any string value. Values come from --set, then KILN_VAR_NAME,
 * then the recipe's `variables:` defaults, then the inline default. `$${` is a literal `${`.
 */
import { isMap, isScalar, isSeq, visit, type Document } from 'yaml';
import type { Issue, KeyPath } from './source.js';

export interface VariableSources {
  set: Record<string, string>;
  env: Record<string, string | undefined>;
  defaults: Record<string, string>;
}

const REFERENCE = /\$(\$?)\{([^}]*)\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function lookup(name: string, sources: VariableSources): string | undefined {
  return sources.set[name] ?? sources.env[`KILN_VAR_${name}`] ?? sources.defaults[name];
}

/** Substitutes one string; returns the result or an error message. */
export function substitute(text: string, sources: VariableSources): { value: string } | { error: string } {
  let error: string | undefined;
  const value = text.replace(REFERENCE, (whole, escaped: string, body: string) => {
    if (escaped) return whole.slice(1);
    const [name = '', fallback] = splitDefault(body);
    if (!NAME.test(name)) {
      error ??= `"\${${body}}" is not a variable reference (use \${NAME} or \${NAME:-default})`;
      return whole;
    }
    const found = lookup(name, sources) ?? fallback;
    if (found === undefined) {
      error ??= `variable ${name} is not set (set it with --set ${name}=VALUE or KILN_VAR_${name}=VALUE, or write \${${name}:-default})`;
      return whole;
    }
    return found;
  });
  return error === undefined ? { value } : { error };
}

function splitDefault(body: string): [string, string | undefined] {
  const at = body.indexOf(':-');
  return at < 0 ? [body, undefined] : [body.slice(0, at), body.slice(at + 2)];
}

/** Replaces references in every string scalar of the document except the `variables` map itself. */
export function substituteDocument(doc: Document, sources: VariableSources): Issue[] {
  const issues: Issue[] = [];
  visit(doc, {
    Pair(_key, pair, path) {
      if (path.length === 2 && isScalar(pair.key) && pair.key.value === 'variables') return visit.SKIP;
      return undefined;
    },
    Scalar(_key, node, path) {
      if (typeof node.value !== 'string' || !node.value.includes('${')) return;
      const result = substitute(node.value, sources);
      if ('error' in result) issues.push({ path: keyPath([...path, node]), message: result.error });
      else node.value = result.value;
    },
  });
  return issues;
}

/** The recipe's `variables:` defaults, read before substitution. */
export function recipeDefaults(doc: Document): Record<string, string> {
  const node: unknown = doc.get('variables', true);
  const out: Record<string, string> = {};
  if (!isMap(node)) return out;
  for (const pair of node.items) {
    if (isScalar(pair.key) && isScalar(pair.value)) out[String(pair.key.value)] = String(pair.value.value);
  }
  return out;
}

/** Turns yaml's visitor ancestry into a key path like ['disk', 'partitions', 1, 'size']. */
function keyPath(ancestry: readonly unknown[]): KeyPath {
  const out: (string | number)[] = [];
  for (let i = 0; i < ancestry.length; i++) {
    const node = ancestry[i];
    const child = ancestry[i + 1];
    if (isMap(node) && child && typeof child === 'object' && 'key' in child) {
      const key = child.key;
      if (isScalar(key)) out.push(String(key.value));
    } else if (isSeq(node)) {
      const index = node.items.indexOf(child);
      if (index >= 0) out.push(index);
    }
  }
  return out;
}
