/**
 * A parsed YAML file that remembers where every value came from, so any error about a key path can
 * name file:line:col.
 */
import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';

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

  constructor(
    readonly file: string,
    text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
  }

  /** YAML syntax errors, already formatted. */
  syntaxErrors(): string[] {
    return this.doc.errors.map((e) => {
      const { line, col } = this.lines.linePos(e.pos[0]);
      const first = e.message.split('\n')[0] ?? e.message;
      return `${this.file}:${line}:${col} ${first.replace(/ at line \d+, column \d+.*$/, '')}`;
    });
  }

  /** "file:line:col" of the value at `path`, or of its nearest existing parent. */
  where(path: KeyPath, atKey = false): string {
    for (let n = path.length; n >= 0; n--) {
      const sub = path.slice(0, n);
      const offset = atKey && n === path.length ? this.keyOffset(sub) : this.valueOffset(sub);
      if (offset !== undefined) {
        const { line, col } = this.lines.linePos(offset);
        return `${this.file}:${line}:${col}`;
      }
    }
    return this.file;
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

  format(issue: Issue): string {
    return `${this.where(issue.path, issue.atKey)} ${formatPath(issue.path)}: ${issue.message}`;
  }
}

export function formatPath(path: KeyPath): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out ? `.${part}` : part;
  return out || '(recipe)';
}

/** A value quoted for an error message, shortened if long. */
export function show(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
