/**
 * A small YAML highlighter for recipes: one line at a time, so a huge file costs only what is shown
 * and a broken file still highlights. It knows comments, keys, quoted and plain scalars, numbers,
 * booleans, anchors, tags, list dashes, flow punctuation and kiln's `${VAR}` references; block
 * scalars (`|`, `>`) are kept as strings until the indentation drops back. Pure.
 */

export type TokenKind = 'comment' | 'key' | 'string' | 'number' | 'bool' | 'null' | 'anchor' | 'tag' | 'punct' | 'var' | 'doc' | 'text';
export interface Token {
  kind: TokenKind;
  text: string;
}

/** Carried from line to line: the indentation that ends a block scalar, if one is open. */
export interface HighlightState {
  blockIndent?: number;
}

const SCALAR_KIND: [RegExp, TokenKind][] = [
  [/^(true|false|yes|no|on|off)$/i, 'bool'],
  [/^(null|~)$/i, 'null'],
  [/^[-+]?(0x[0-9a-f]+|0o[0-7]+|\d[\d_]*(\.\d*)?([eE][-+]?\d+)?|\.inf|\.nan)$/i, 'number'],
];

function push(out: Token[], kind: TokenKind, text: string): void {
  if (!text) return;
  const last = out.at(-1);
  if (last && last.kind === kind) last.text += text;
  else out.push({ kind, text });
}

/** A string's text with `${VAR}` references split out. */
function withVars(out: Token[], text: string, kind: TokenKind): void {
  const re = /\$\{[^}]*\}/g;
  let at = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    push(out, kind, text.slice(at, m.index));
    push(out, 'var', m[0]);
    at = m.index + m[0].length;
  }
  push(out, kind, text.slice(at));
}

function plainScalar(out: Token[], text: string): void {
  const trimmed = text.trimEnd();
  const kind = SCALAR_KIND.find(([re]) => re.test(trimmed))?.[1] ?? 'string';
  withVars(out, trimmed, kind);
  push(out, 'text', text.slice(trimmed.length));
}

/** A quoted string from `at` (the quote) to its closing quote or the end of the line. */
function quotedEnd(line: string, at: number): number {
  const q = line[at];
  for (let i = at + 1; i < line.length; i++) {
    if (q === '"' && line[i] === '\\') i++;
    else if (line[i] === q) {
      if (q === "'" && line[i + 1] === "'") i++;
      else return i + 1;
    }
  }
  return line.length;
}

/** Where a plain scalar ends: before ` #`, or at a flow indicator inside `[ ]`/`{ }`, or a `: `. */
function plainEnd(line: string, at: number, inFlow: boolean): number {
  for (let i = at; i < line.length; i++) {
    const c = line[i];
    if (c === '#' && (line[i - 1] === ' ' || line[i - 1] === '\t')) return i;
    if (inFlow && (c === ',' || c === ']' || c === '}')) return i;
    if (c === ':' && (i + 1 === line.length || line[i + 1] === ' ' || (inFlow && line[i + 1] === ','))) return i;
  }
  return line.length;
}

function highlightRest(out: Token[], line: string, start: number, state: HighlightState, indent: number): void {
  let depth = 0;
  let i = start;
  while (i < line.length) {
    const c = line[i] ?? '';
    if (c === ' ' || c === '\t') {
      push(out, 'text', c);
      i++;
    } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1] ?? ''))) {
      push(out, 'comment', line.slice(i));
      return;
    } else if ('[]{},'.includes(c)) {
      depth += c === '[' || c === '{' ? 1 : c === ',' ? 0 : -1;
      push(out, 'punct', c);
      i++;
    } else if (c === '-' && (line[i + 1] === ' ' || i + 1 === line.length) && depth === 0) {
      push(out, 'punct', '-');
      i++;
    } else if (c === '&' || c === '*') {
      const end = line.slice(i).search(/[\s,\]}]/);
      const to = end < 0 ? line.length : i + end;
      push(out, 'anchor', line.slice(i, to));
      i = to;
    } else if (c === '!') {
      const end = line.slice(i).search(/\s/);
      const to = end < 0 ? line.length : i + end;
      push(out, 'tag', line.slice(i, to));
      i = to;
    } else if ((c === '|' || c === '>') && /^[|>][-+0-9]*\s*(#.*)?$/.test(line.slice(i))) {
      push(out, 'punct', line.slice(i).replace(/\s*#.*$/, ''));
      const comment = /\s*#.*$/.exec(line.slice(i));
      if (comment) push(out, 'comment', comment[0]);
      state.blockIndent = indent;
      return;
    } else {
      const quoted = c === '"' || c === "'";
      const end = quoted ? quotedEnd(line, i) : plainEnd(line, i, depth > 0);
      const text = line.slice(i, end);
      const after = line.slice(end);
      if (/^\s*:(\s|$|,)/.test(after) || (depth > 0 && after.startsWith(':'))) {
        push(out, 'key', text);
        const colon = after.indexOf(':');
        push(out, 'text', after.slice(0, colon));
        push(out, 'punct', ':');
        i = end + colon + 1;
        continue;
      }
      if (quoted) withVars(out, text, 'string');
      else plainScalar(out, text);
      i = end === i ? i + 1 : end;
    }
  }
}

/** The tokens of one line; `state` carries block scalars to the next line. */
export function highlightLine(line: string, state: HighlightState): Token[] {
  const out: Token[] = [];
  const indent = line.length - line.trimStart().length;
  if (state.blockIndent !== undefined) {
    if (line.trim() === '' || indent > state.blockIndent) {
      withVars(out, line, 'string');
      return out;
    }
    delete state.blockIndent;
  }
  if (/^(---|\.\.\.)(\s|$)/.test(line) || line.startsWith('%')) {
    push(out, 'doc', line);
    return out;
  }
  highlightRest(out, line, 0, state, indent);
  return out;
}

export function highlightYaml(text: string): Token[][] {
  const state: HighlightState = {};
  return text.split('\n').map((line) => highlightLine(line.replace(/\r$/, ''), state));
}
