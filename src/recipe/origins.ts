/**
 * Where each value of a merged recipe came from: the recipe or one of its layers, with the file,
 * the folder its relative paths start from, and its own key path. Errors about the merged recipe
 * are reported at the line that wrote the value, in whichever file that is.
 */
import type { Diagnostic } from '../diagnostics.js';
import { formatPath, type Issue, type KeyPath, type SourceFile } from './source.js';

export interface Origin {
  /** "recipe", or the layer's name. */
  name: string;
  folder: string;
  source: SourceFile;
  /** The value's key path in its own file. */
  path: KeyPath;
}

export class Origins {
  private readonly items = new Map<string, Origin>();
  private readonly asked = new Map<string, Map<string, string[]>>();

  constructor(readonly recipe: Omit<Origin, 'path'>) {}

  set(path: KeyPath, origin: Origin): void {
    this.items.set(formatPath(path), origin);
  }

  /** The origin of the value at `path` (found by its longest recorded prefix), with its path there. */
  of(path: KeyPath): Origin {
    for (let n = path.length; n > 0; n--) {
      const found = this.items.get(formatPath(path.slice(0, n)));
      if (found) return { ...found, path: [...found.path, ...path.slice(n)] };
    }
    return { ...this.recipe, path };
  }

  /** The issue at the line that wrote the value, in whichever file that is. */
  diagnostic(issue: Issue): Diagnostic {
    const origin = this.of(issue.path);
    return origin.source.diagnostic({ ...issue, path: origin.path });
  }

  /** Records that `name` asked for `value` in the list at `list` (packages, services.enable...). */
  ask(list: string, value: string, name: string): void {
    const values = this.asked.get(list) ?? new Map<string, string[]>();
    this.asked.set(list, values);
    const names = values.get(value) ?? [];
    if (!names.includes(name)) names.push(name);
    values.set(value, names);
  }

  /** Who asked for `value` in the list at `list`, in the order they did. */
  askedFor(list: string, value: string): string[] {
    return this.asked.get(list)?.get(value) ?? [];
  }
}
