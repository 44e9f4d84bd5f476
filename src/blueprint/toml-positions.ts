/**
 * Where each key and value of a TOML file starts. smol-toml positions only its syntax errors, so a
 * refusal of a well-formed blueprint ("modules: DNF modules have no Debian equivalent") would have
 * no line: this scanner walks the text once and records the position of every table header, key and
 * array element under its path (`customizations.user[0].name`). It runs only on text smol-toml has
 * parsed, so it can be forgiving: it never decides what the file means, only where things are.
 */
import type { KeyPath } from '../recipe/source.js';

export interface TomlPos {
  line: number;
  col: number;
}

export class TomlPositions {
  constructor(
    private readonly found: ReadonlyMap<string, TomlPos>,
    readonly lines: readonly string[],
  ) {}

  /** The position of `path`, or of its nearest parent that has one; the file's start otherwise. */
  of(path: KeyPath): TomlPos {
    for (let n = path.length; n > 0; n--) {
      const pos = this.found.get(pathKey(path.slice(0, n)));
      if (pos) return pos;
    }
    return { line: 1, col: 1 };
  }

  /** The source line (without its newline) for a code frame. */
  text(line: number): string {
    return (this.lines[line - 1] ?? '').replace(/\r$/, '');
  }
}

export const pathKey = (path: KeyPath): string => JSON.stringify(path);

export function scanToml(text: string): TomlPositions {
  return new Scanner(text).run();
}

const BARE = /[A-Za-z0-9_-]/;

class Scanner {
  private at = 0;
  private readonly found = new Map<string, TomlPos>();
  /** How many elements each array of tables (by its resolved path) has so far. */
  private readonly arrays = new Map<string, number>();

  private readonly starts: number[] = [0];

  constructor(private readonly s: string) {
    for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  run(): TomlPositions {
    let table: (string | number)[] = [];
    for (;;) {
      this.skipBlank(true);
      if (this.at >= this.s.length) break;
      const start = this.pos();
      if (this.s.startsWith('[[', this.at)) {
        this.at += 2;
        const path = this.resolve(this.keys(']'));
        this.at += 2;
        const count = this.arrays.get(pathKey(path)) ?? 0;
        this.arrays.set(pathKey(path), count + 1);
        table = [...path, count];
        this.record(path, start);
        this.record(table, start);
      } else if (this.s[this.at] === '[') {
        this.at += 1;
        table = this.resolve(this.keys(']'));
        this.at += 1;
        this.record(table, start);
      } else {
        const path = [...table, ...this.keys('=')];
        this.record(path, start);
        this.at += 1;
        this.value(path);
      }
      this.skipLine();
    }
    return new TomlPositions(this.found, this.s.split('\n'));
  }

  /** `[a.b]` after `[[a]]` means a table inside a's last element: put the index in. */
  private resolve(keys: string[]): (string | number)[] {
    const out: (string | number)[] = [];
    keys.forEach((key, i) => {
      out.push(key);
      const count = this.arrays.get(pathKey(out));
      if (count !== undefined && i < keys.length - 1) out.push(count - 1);
    });
    return out;
  }

  /** A dotted key up to `end` (not consumed): bare, "basic" or 'literal' parts. */
  private keys(end: string): string[] {
    const keys: string[] = [];
    for (;;) {
      this.skipSpaces();
      const c = this.s[this.at];
      if (c === undefined || c === end || c === '\n') return keys;
      if (c === '"' || c === "'") keys.push(this.quoted(c));
      else {
        let key = '';
        while (this.at < this.s.length && BARE.test(this.s[this.at] ?? '')) key += this.s[this.at++];
        if (!key) {
          this.at += 1;
          continue;
        }
        keys.push(key);
      }
      this.skipSpaces();
      if (this.s[this.at] === '.') this.at += 1;
    }
  }

  private quoted(quote: string): string {
    this.at += 1;
    let out = '';
    while (this.at < this.s.length && this.s[this.at] !== quote && this.s[this.at] !== '\n') {
      if (quote === '"' && this.s[this.at] === '\\') {
        const next = this.s[this.at + 1] ?? '';
        out += next === 'n' ? '\n' : next === 't' ? '\t' : next;
        this.at += 2;
      } else out += this.s[this.at++];
    }
    this.at += 1;
    return out;
  }

  private value(path: (string | number)[]): void {
    this.skipSpaces();
    const c = this.s[this.at];
    if (c === '[') {
      this.at += 1;
      for (let i = 0; ; i++) {
        this.skipBlank(true);
        if (this.at >= this.s.length || this.s[this.at] === ']') break;
        this.record([...path, i], this.pos());
        this.value([...path, i]);
        this.skipBlank(true);
        if (this.s[this.at] === ',') this.at += 1;
      }
      this.at += 1;
    } else if (c === '{') {
      this.at += 1;
      for (;;) {
        this.skipSpaces();
        if (this.at >= this.s.length || this.s[this.at] === '}' || this.s[this.at] === '\n') break;
        const start = this.pos();
        const key = [...path, ...this.keys('=')];
        this.record(key, start);
        this.at += 1;
        this.value(key);
        this.skipSpaces();
        if (this.s[this.at] === ',') this.at += 1;
      }
      this.at += 1;
    } else if (this.s.startsWith('"""', this.at) || this.s.startsWith("'''", this.at)) {
      const quote = this.s.slice(this.at, this.at + 3);
      let end = this.at + 3;
      for (;;) {
        end = this.s.indexOf(quote, end);
        if (end < 0 || quote === "'''" || !escaped(this.s, end)) break;
        end += 1;
      }
      // Up to two quotes may close the string's content before the delimiter ("""a"""" is `a"`).
      let close = end < 0 ? this.s.length : end + 3;
      while (this.s[close] === quote[0] && close - end < 5) close += 1;
      this.at = close;
    } else if (c === '"' || c === "'") {
      this.quoted(c);
    } else {
      while (this.at < this.s.length && !',]}\n#'.includes(this.s[this.at] ?? '')) this.at += 1;
    }
  }

  /** The first place a path appears; a header or dotted key also places the tables it implies. */
  private record(path: (string | number)[], pos: TomlPos): void {
    for (let n = 1; n <= path.length; n++) {
      const key = pathKey(path.slice(0, n));
      if (!this.found.has(key)) this.found.set(key, pos);
    }
  }

  private pos(): TomlPos {
    // The last line start at or before `at` (binary search: a big file has many keys).
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] ?? 0) <= this.at) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: this.at - (this.starts[lo] ?? 0) + 1 };
  }

  private skipSpaces(): void {
    while (this.s[this.at] === ' ' || this.s[this.at] === '\t' || this.s[this.at] === '\r') this.at += 1;
  }

  /** Spaces, comments and (when `lines`) newlines. */
  private skipBlank(lines: boolean): void {
    for (;;) {
      this.skipSpaces();
      if (this.s[this.at] === '#') this.skipComment();
      else if (lines && this.s[this.at] === '\n') this.at += 1;
      else return;
    }
  }

  private skipComment(): void {
    const end = this.s.indexOf('\n', this.at);
    this.at = end < 0 ? this.s.length : end;
  }

  private skipLine(): void {
    this.skipSpaces();
    if (this.s[this.at] === '#') this.skipComment();
  }
}

/** Whether the character at `at` follows an odd number of backslashes. */
function escaped(s: string, at: number): boolean {
  let n = 0;
  for (let i = at - 1; i >= 0 && s[i] === '\\'; i--) n += 1;
  return n % 2 === 1;
}
