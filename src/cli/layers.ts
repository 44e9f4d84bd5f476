/** `kiln layers list` and `kiln layers show NAME`. */
import { stringify } from 'yaml';
import { UserError } from '../errors.js';
import { nearestAll } from '../recipe/issues.js';
import { displayPath, findLayer, listLayers, loadLayer, RESERVED } from '../recipe/layers.js';

export function layersTable(path: readonly string[]): string {
  const layers = listLayers(path);
  if (!layers.length) return `no layers found in ${path.map(displayPath).join(', ')}\n`;
  const rows = layers.map((l) => {
    const found = findLayer(l.name, path);
    const description = l.shadowed ? `(hidden by ${displayPath(found ?? '')})` : descriptionOf(l.name, l.folder);
    return [l.name, description, displayPath(l.folder)];
  });
  const width = Math.max(4, ...rows.map((r) => r[0]?.length ?? 0));
  return [`${'NAME'.padEnd(width)}  DESCRIPTION  (FOLDER)`, ...rows.map(([name = '', description = '', folder = '']) => `${name.padEnd(width)}  ${description}  (${folder})`)].join('\n') + '\n';
}

function descriptionOf(name: string, folder: string): string {
  const loaded = loadLayer(name, folder, {}, {}, {});
  return 'layer' in loaded ? (loaded.layer.layer.description ?? '') : '(has errors: kiln layers show ' + name + ')';
}

/** The layer as a build would use it: variables with their defaults and current values, hooks that run and those that never do. */
export function showLayer(name: string, path: readonly string[], set: Record<string, string>, env: Record<string, string | undefined>): string {
  const folder = RESERVED.includes(name) ? undefined : findLayer(name, path);
  if (!folder) {
    const guesses = nearestAll(name, listLayers(path).map((l) => l.name));
    throw new UserError(`unknown layer "${name}"${guesses.length ? ` (did you mean ${guesses.map((g) => `"${g}"`).join(' or ')}?)` : ''}; kiln layers list shows every layer`);
  }
  const loaded = loadLayer(name, folder, set, env, {});
  if ('errors' in loaded) throw UserError.of(loaded.errors);
  const { layer, variables, hooks, skipped, hasOverlay } = loaded.layer;
  const { variables: declared, description, depends, ...content } = layer;
  const out = {
    name,
    folder: displayPath(folder),
    description: description ?? '',
    depends: depends ?? [],
    variables: Object.fromEntries(Object.entries(declared ?? {}).map(([k, v]) => [k, { ...v, value: variables[k] }])),
    overlay: hasOverlay ? 'overlay/ (copied to /)' : 'none',
    ...content,
    hooks: Object.fromEntries(Object.entries(hooks).filter(([, scripts]) => scripts.length)),
    ...(skipped.length ? { 'never run': skipped.map((s) => `${s.path}: ${s.why}`) } : {}),
  };
  return stringify(out, { lineWidth: 0 });
}
