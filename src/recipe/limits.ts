/**
 * Bounds on what a recipe or layer file may be, checked on the parsed YAML before any value is
 * used: recipes come from the network too (the build service), and an alias bomb, a 100,000-level
 * nesting or a gigabyte string must end in a clear error in bounded time and memory, not a crash.
 * Every limit is far above what a real recipe needs and is named in its message.
 */
import { isAlias, isCollection, isMap, isPair, isScalar, type Document, type Node } from 'yaml';

export const LIMITS = {
  /** A recipe is configuration; big files sit next to it and are named by `src`. */
  fileBytes: 1024 * 1024,
  /** Collections inside collections; the deepest recipe key (disk.partitions[0].name) is 4. */
  depth: 32,
  /** Values in the document once every alias is expanded: what an alias bomb multiplies. */
  values: 100_000,
  /** Characters in one string (a file's inline `content` is bounded by fileBytes alone). */
  stringLength: 64 * 1024,
  /** Entries of the recipe's lists. */
  packages: 10_000,
  files: 10_000,
  users: 1_000,
  layers: 256,
  hooks: 1_000,
  services: 10_000,
  partitions: 128,
  listItems: 10_000,
  /** Files and folders under a folder a recipe names (its content is hashed into the plan). */
  treeEntries: 100_000,
  /** Characters in a layer variable's `pattern`. */
  patternLength: 1_000,
} as const;

/** Core tags only: others make Buffers, Dates and Sets that no recipe key takes. */
const PLAIN_TAGS = new Set(['tag:yaml.org,2002:str', 'tag:yaml.org,2002:int', 'tag:yaml.org,2002:float', 'tag:yaml.org,2002:bool', 'tag:yaml.org,2002:null', 'tag:yaml.org,2002:map', 'tag:yaml.org,2002:seq']);

/**
 * Keys whose strings are free text (file content, descriptions, an apt source's armored key):
 * anything printable goes. A path given as secure_boot.key must still resolve to a file.
 */
const FREE_TEXT = new Set(['content', 'description', 'key']);

export interface Problem {
  /** Offset in the text of the node at fault. */
  offset: number;
  message: string;
}

/**
 * Walks the document once in order. `structure` (right after parsing): nesting depth, aliases
 * (each must point back to an earlier anchor that does not contain it) and their expanded size,
 * tags, keys and numbers; it stops at the first bound crossed, and recursion stops at LIMITS.depth,
 * so the walk itself is bounded. `strings` (after variables are substituted, on a document that
 * passed `structure`): string lengths and hidden characters.
 */
export function checkDocument(doc: Document, mode: 'structure' | 'strings'): Problem[] {
  const problems: Problem[] = [];
  const anchors = new Map<string, Node>();
  const sizes = new Map<Node, number>();
  let values = 0;
  let stop = false;
  const fail = (node: Node | undefined, message: string) => {
    problems.push({ offset: node?.range?.[0] ?? 0, message });
    if (problems.length >= 20) stop = true;
  };
  const count = (node: Node, n: number) => {
    values += n;
    if (values > LIMITS.values && !stop) {
      fail(node, `the document expands to more than ${LIMITS.values} values (the limit)${isAlias(node) ? ' through its aliases' : ''}; is it an alias bomb?`);
      stop = true;
    }
  };

  /** The node's size with every alias expanded. */
  function walk(node: Node | null | undefined, depth: number, freeText: boolean): number {
    if (!node || stop) return 0;
    if (node.anchor) anchors.set(node.anchor, node);
    if (isAlias(node)) {
      if (mode === 'strings') return 0;
      const target = anchors.get(node.source);
      if (!target) return fail(node, `the alias *${node.source} has no anchor &${node.source} before it`), 0;
      const size = sizes.get(target);
      if (size === undefined) return fail(node, `the alias *${node.source} is inside its own anchor &${node.source}, which makes an endless value`), 0;
      count(node, size);
      return size;
    }
    count(node, 1);
    if (mode === 'structure' && node.tag && !PLAIN_TAGS.has(node.tag)) fail(node, `the tag ${node.tag.replace('tag:yaml.org,2002:', '!!')} is not used in recipes (remove it and write the value as plain text)`);
    let size = 1;
    if (isCollection(node)) {
      if (depth >= LIMITS.depth) return fail(node, `values are nested more than ${LIMITS.depth} levels deep (the limit); a recipe needs a handful`), 0;
      for (const item of node.items) {
        if (isPair(item)) {
          const key = item.key as Node | null;
          if (key && !isScalar(key)) fail(key, 'a key must be a plain name, not a list or mapping');
          else size += walk(key, depth + 1, false);
          const name = isScalar(key) ? key.value : undefined;
          size += walk(item.value as Node | null, depth + 1, isMap(node) && typeof name === 'string' && FREE_TEXT.has(name));
        } else size += walk(item as Node, depth + 1, freeText);
        if (stop) break;
      }
    } else if (isScalar(node)) {
      if (mode === 'structure') checkNumber(node);
      else checkString(node, freeText);
    }
    sizes.set(node, size);
    return size;
  }

  function checkNumber(node: Node & { value: unknown; source?: string }): void {
    const { value } = node;
    if (typeof value === 'number' && (!Number.isFinite(value) || (Number.isInteger(value) && !Number.isSafeInteger(value)))) {
      fail(node, `${node.source ?? String(value)} is too large a number (the largest kiln takes is ${Number.MAX_SAFE_INTEGER})`);
    }
  }

  function checkString(node: Node & { value: unknown }, freeText: boolean): void {
    const { value } = node;
    if (typeof value !== 'string' || freeText) return;
    if (value.length > LIMITS.stringLength) fail(node, `a string of ${value.length} characters is longer than the limit of ${LIMITS.stringLength}`);
    const hidden = HIDDEN.exec(value);
    if (!hidden) return;
    const code = hidden[0].charCodeAt(0);
    const control = code <= 0x1f || (code >= 0x7f && code <= 0x9f);
    const why = control ? 'a control character: outside content and descriptions, values are one line of printable text' : 'an invisible character that hides or reorders what is shown';
    fail(node, `${JSON.stringify(value.slice(0, 40))} contains ${describeCharacter(hidden[0])}, ${why}; remove it`);
  }

  walk(doc.contents, 0, false);
  return problems;
}

/**
 * Control characters, bidirectional overrides and invisible characters: in a name or path they make
 * `/etc/motd` and `/etc/m\u202Edtom` look alike, or end a line in a log. Free text may have them.
 */
// Listed one by one, they are invisible on purpose: fillers and variation selectors among them.
// eslint-disable-next-line no-control-regex, no-misleading-character-class
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb]/u;

const NAMES: Record<string, string> = {
  '\u0000': 'NUL',
  '\t': 'a tab',
  '\n': 'a line break',
  '\r': 'a carriage return',
  '\u200b': 'ZERO WIDTH SPACE',
  '\u200d': 'ZERO WIDTH JOINER',
  '\u202e': 'RIGHT-TO-LEFT OVERRIDE',
  '\u202d': 'LEFT-TO-RIGHT OVERRIDE',
  '\ufeff': 'a byte order mark',
};

function describeCharacter(c: string): string {
  const code = `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
  const name = NAMES[c];
  return name ? `${code} (${name})` : code;
}
