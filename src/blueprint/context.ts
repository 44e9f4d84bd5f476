/**
 * The state of one blueprint's translation: the recipe being written, where each of its values came
 * from (for messages and YAML comments), and what was refused. Every refusal is collected before
 * any is reported, so a user fixes a blueprint in one pass, as with recipes.
 */
import type { Diagnostic } from '../diagnostics.js';
import { describe, nearest } from '../recipe/issues.js';
import { formatPath, show, type KeyPath } from '../recipe/source.js';
import { pathKey, type TomlPositions } from './toml-positions.js';

export type Table = Record<string, unknown>;

export interface Refusal {
  /** True when dropping the key leaves the image doing what the blueprint asks (--lenient warns). */
  lenient?: boolean;
}

export class Translation {
  /** The recipe, as plain data in the order it is written. */
  readonly recipe: Table = {};
  /** Recipe path → the comment its YAML gets (what was translated, and how). */
  readonly notes = new Map<string, string>();
  /** Recipe path → the blueprint path it came from. */
  readonly origins = new Map<string, KeyPath>();
  /** Lines for the top of the YAML file (the blueprint's description, version). */
  readonly header: string[] = [];
  readonly refusals: Diagnostic[] = [];
  readonly warnings: Diagnostic[] = [];
  /** Debian's architecture and release the blueprint asks for (kernel and apt suite names need them). */
  arch = 'amd64';
  release: string;

  constructor(
    readonly file: string,
    readonly positions: TomlPositions,
    readonly lenient: boolean,
    release: string,
  ) {
    this.release = release;
  }

  /** A diagnostic at the blueprint key `path`. */
  at(path: KeyPath, message: string): Diagnostic {
    const { line, col } = this.positions.of(path);
    return { file: this.file, line, col, text: this.positions.text(line), message: `${path.length ? formatPath(path) : '(blueprint)'}: ${message}` };
  }

  refuse(path: KeyPath, message: string, how: Refusal = {}): void {
    if (how.lenient && this.lenient) this.warnings.push(this.at(path, `${message} (dropped: --lenient)`));
    else this.refusals.push(this.at(path, how.lenient ? `${message} (--lenient drops it with a warning)` : message));
  }

  /** Sets the recipe value at `to`, remembering its blueprint origin and an optional comment. */
  set(to: KeyPath, value: unknown, from: KeyPath, note?: string): void {
    let node: Table | unknown[] = this.recipe;
    to.forEach((part, i) => {
      if (i === to.length - 1) {
        (node as Record<string | number, unknown>)[part] = value;
        return;
      }
      const record = node as Record<string | number, unknown>;
      record[part] ??= typeof to[i + 1] === 'number' ? [] : {};
      node = record[part] as Table | unknown[];
    });
    this.origins.set(pathKey(to), from);
    if (note) this.notes.set(pathKey(to), note);
  }

  /** Appends to the recipe list at `to`; returns the new element's path. */
  push(to: KeyPath, value: unknown, from: KeyPath, note?: string): KeyPath {
    const list = this.get(to);
    const index = Array.isArray(list) ? list.length : 0;
    this.set([...to, index], value, from, note);
    return [...to, index];
  }

  get(to: KeyPath): unknown {
    let node: unknown = this.recipe;
    for (const part of to) node = node && typeof node === 'object' ? (node as Record<string | number, unknown>)[part] : undefined;
    return node;
  }

  note(to: KeyPath, note: string): void {
    const old = this.notes.get(pathKey(to));
    this.notes.set(pathKey(to), old ? `${old}; ${note}` : note);
  }

  // Readers of blueprint values: each refuses a wrong type at its line and returns undefined.

  table(path: KeyPath, value: unknown): Table | undefined {
    if (isTable(value)) return value;
    this.refuse(path, `expected a table, got ${describeToml(value)}`);
    return undefined;
  }

  /** A table whose keys must all be in `known`; unknown ones are refused with the nearest name. */
  keys(path: KeyPath, value: unknown, known: readonly string[]): Table | undefined {
    const table = this.table(path, value);
    if (!table) return undefined;
    for (const key of Object.keys(table)) {
      if (known.includes(key)) continue;
      const guess = nearest(key, known);
      this.refuse([...path, key], guess ? `unknown key (did you mean "${guess}"?)` : `unknown key (valid keys: ${known.join(', ')})`);
    }
    return table;
  }

  str(path: KeyPath, value: unknown): string | undefined {
    if (value === undefined) return undefined;
    if (typeof value === 'string') return value;
    this.refuse(path, `expected a string, got ${describeToml(value)}`);
    return undefined;
  }

  int(path: KeyPath, value: unknown): number | undefined {
    if (value === undefined) return undefined;
    if (typeof value === 'number' && Number.isInteger(value)) return value;
    this.refuse(path, `expected a whole number, got ${describeToml(value)}`);
    return undefined;
  }

  bool(path: KeyPath, value: unknown): boolean | undefined {
    if (value === undefined) return undefined;
    if (typeof value === 'boolean') return value;
    this.refuse(path, `expected true or false, got ${describeToml(value)}`);
    return undefined;
  }

  strList(path: KeyPath, value: unknown): string[] {
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
      this.refuse(path, `expected a list of strings, got ${describeToml(value)}`);
      return [];
    }
    return value.flatMap((item: unknown, i) => this.str([...path, i], item) ?? []);
  }

  /** An array of tables (`[[x]]` or `x = [{...}]`), each with its index. */
  tables(path: KeyPath, value: unknown, known: readonly string[]): [Table, number][] {
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
      this.refuse(path, `expected a list of tables ([[${formatPath(path)}]]), got ${describeToml(value)}`);
      return [];
    }
    return value.flatMap((item: unknown, i): [Table, number][] => {
      const table = this.keys([...path, i], item, known);
      return table ? [[table, i]] : [];
    });
  }

  /** A required string key of a table. */
  required(path: KeyPath, table: Table, key: string): string | undefined {
    if (table[key] === undefined) {
      this.refuse(path, `"${key}" is required`);
      return undefined;
    }
    return this.str([...path, key], table[key]);
  }
}

export function isTable(value: unknown): value is Table {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);
}

/** A TOML value for a message: dates and tables named, not dumped. */
export function describeToml(value: unknown): string {
  if (value instanceof Date) return 'a date';
  if (isTable(value)) return 'a table';
  return describe(value);
}

export { show };
