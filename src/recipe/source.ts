/**
 * A parsed YAML file that remembers where every value came from, so any error about a key path can
 * name file:line:col and show the line.
 */
import { Document, isMap, isScalar, LineCounter, parseDocument, type ErrorCode } from 'yaml';
import type { Diagnostic } from '../diagnostics.js';
import { checkDocument, LIMITS } from './limits.js';
import { deepNestingAt } from './nesting-scan.js';

export type KeyPath = readonly (string | number)[];

export interface Issue {
  path: KeyPath;
  message: string;
  /** Point at the key itself rather than its value (unknown keys). */
  atKey?: boolean;
}

export class SourceFile {
  readonly doc: Document;
  private readonly lines = new LineCounter();
  private readonly problems: Diagnostic[];

  constructor(
    readonly file: string,
    private readonly text: string,
  ) {
    const deep = deepNestingAt(text);
    if (deep !== undefined) {
      // Never handed to the parser: its recursion would overflow or exhaust memory.
      this.lines.addNewLine(0);
      for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) this.lines.addNewLine(at + 1);
      this.doc = new Document();
      this.problems = [this.at(deep, `values are nested far more than ${LIMITS.depth} levels deep (the limit); a recipe needs a handful`)];
      return;
    }
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
    const yaml = [...this.doc.errors, ...this.doc.warnings].map((e) => this.at(e.pos[0], yamlMessage(e.code, e.message)));
    // The document's bounds are checked only on a document that parsed: the rest can be anything.
    this.problems = yaml.length ? yaml : checkDocument(this.doc, 'structure').map((p) => this.at(p.offset, p.message));
  }

  /** YAML syntax errors and crossed limits (aliases, nesting, numbers): the file cannot be used. */
  syntaxErrors(): Diagnostic[] {
    return this.problems;
  }

  /** Lengths and hidden characters of strings, after variables are substituted into them. */
  stringErrors(): Diagnostic[] {
    return checkDocument(this.doc, 'strings').map((p) => this.at(p.offset, p.message));
  }

  /** The document's value; call only when syntaxErrors() is empty (aliases are then bounded). */
  toJS(): unknown {
    return this.doc.toJS({ maxAliasCount: -1 }) as unknown;
  }

  /** A diagnostic at a text offset. */
  at(offset: number, message: string): Diagnostic {
    const { line, col } = this.lines.linePos(offset);
    const start = this.lines.lineStarts[line - 1] ?? 0;
    const end = this.text.indexOf('\n', start);
    return { file: this.file, line, col, text: this.text.slice(start, end < 0 ? undefined : end).replace(/\r$/, ''), message };
  }

  /** "file:line:col" of the value at `path`, or of its nearest existing parent. */
  where(path: KeyPath): string {
    const offset = this.offsetOf(path);
    if (offset === undefined) return this.file;
    const { line, col } = this.lines.linePos(offset);
    return `${this.file}:${line}:${col}`;
  }

  /** The offset of the value at `path`, or of its nearest existing parent; none in an empty file. */
  private offsetOf(path: KeyPath, atKey = false): number | undefined {
    for (let n = path.length; n >= 0; n--) {
      const sub = path.slice(0, n);
      const offset = atKey && n === path.length ? this.keyOffset(sub) : this.valueOffset(sub);
      if (offset !== undefined) return offset;
    }
    return undefined;
  }

  private valueOffset(path: KeyPath): number | undefined {
    if (path.length === 0) return this.doc.contents?.range?.[0];
    const node: unknown = this.doc.getIn(path, true);
    if (node && typeof node === 'object' && 'range' in node) {
      const range = (node as { range?: [number, number, number] }).range;
      return range?.[0];
    }
    return undefined;
  }

  private keyOffset(path: KeyPath): number | undefined {
    const parent: unknown = path.length === 1 ? this.doc.contents : this.doc.getIn(path.slice(0, -1), true);
    if (!isMap(parent)) return undefined;
    const name = path[path.length - 1];
    for (const pair of parent.items) {
      if (isScalar(pair.key) && pair.key.value === name) return pair.key.range?.[0];
    }
    return undefined;
  }

  diagnostic(issue: Issue): Diagnostic {
    const message = `${formatPath(issue.path)}: ${issue.message}`;
    const offset = this.offsetOf(issue.path, issue.atKey);
    return offset === undefined ? { file: this.file, message } : this.at(offset, message);
  }
}

/** What to do about the YAML mistakes people make most, added to yaml's own words. */
const YAML_FIXES: Partial<Record<ErrorCode, string>> = {
  MULTIPLE_DOCS: 'a recipe is one YAML document: remove the "---" line and what follows, or move it to a file of its own',
  TAB_AS_INDENT: 'indent with spaces',
  DUPLICATE_KEY: 'the same key is given twice in one mapping; keep one',
};

/** yaml's message without its own position and frame (kiln adds both), its limits named, a fix added. */
function yamlMessage(code: ErrorCode, message: string): string {
  const first = (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+.*$/, '');
  // yaml reports the stack overflow of a document nested thousands of levels deep as its error.
  if (/Maximum call stack/.test(first)) return `values are nested far more than ${LIMITS.depth} levels deep (the limit); a recipe needs a handful`;
  if (code === 'MULTIPLE_DOCS') return YAML_FIXES.MULTIPLE_DOCS ?? first;
  const fix = YAML_FIXES[code];
  return fix ? `${first}: ${fix}` : first;
}

export function formatPath(path: KeyPath): string {
  let out = '';
  for (const part of path) {
    // A key that is not a plain name (blank, spaces, odd characters) is shown quoted, so it is seen.
    if (typeof part === 'number') out += `[${part}]`;
    else if (!/^[A-Za-z0-9_-]+$/.test(part)) out += `[${JSON.stringify(part.length > 40 ? `${part.slice(0, 37)}...` : part)}]`;
    else out += out ? `.${part}` : part;
  }
  return path.length ? out : '(recipe)';
}

/** A value quoted for an error message, shortened if long. */
export function show(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
