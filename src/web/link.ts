/**
 * Joins the client's ES modules into one script at server start, so the first load is three
 * requests (page, stylesheet, script) instead of one per module: on a busy machine each request
 * costs tens of milliseconds. It is not a general bundler: it knows the two forms tsc writes for
 * this code (`import { a, b as c } from './x.js';` and `export function|class|const NAME`) and
 * refuses anything else, so a module it cannot join is served as it is. Modules run in the order
 * ES modules would (dependencies first; the import graph has no cycles), each in its own scope.
 */

const IMPORT = /^import\s*\{([^}]*)\}\s*from\s*'(\.{1,2}\/[^']+)';\s*$/;
const EXPORT = /^export\s+(?:async\s+)?(?:function\*?|class|const)\s+([A-Za-z_$][\w$]*)/;

interface Parsed {
  imports: { names: string; from: string }[];
  exports: string[];
  body: string;
}

function resolve(from: string, spec: string): string {
  return new URL(spec, `file:///${from}`).pathname.slice(1);
}

function parse(path: string, source: string): Parsed {
  const imports: Parsed['imports'] = [];
  const exports: string[] = [];
  const body: string[] = [];
  for (const line of source.split('\n')) {
    const imp = IMPORT.exec(line);
    if (imp) {
      imports.push({ names: imp[1] ?? '', from: resolve(path, imp[2] ?? '') });
      continue;
    }
    if (/^\s*(import|export)\b/.test(line) && !/^\s*import\(/.test(line)) {
      if (/^export\s*\{\s*\};?\s*$/.test(line)) continue;
      const exp = EXPORT.exec(line);
      if (!exp?.[1]) throw new Error(`${path}: cannot join "${line.trim()}"`);
      exports.push(exp[1]);
      body.push(line.replace(/^export\s+/, ''));
      continue;
    }
    if (/\bimport\s*\(|\bimport\.meta\b/.test(line)) throw new Error(`${path}: cannot join a dynamic import or import.meta`);
    if (!line.startsWith('//# sourceMappingURL=')) body.push(line);
  }
  return { imports, exports, body: body.join('\n') };
}

/** One script that runs `entry` and everything it imports; throws when a module uses a form it does not know. */
export function linkModules(files: ReadonlyMap<string, string>, entry: string): string {
  const parsed = new Map<string, Parsed>();
  const order: string[] = [];
  const visiting = new Set<string>();
  const visit = (path: string, chain: string[]) => {
    if (parsed.has(path) && !visiting.has(path)) return;
    if (visiting.has(path)) throw new Error(`import cycle: ${[...chain, path].join(' → ')}`);
    const source = files.get(path);
    if (source === undefined) throw new Error(`${chain.at(-1) ?? 'the entry'} imports ${path}, which is not there`);
    const p = parse(path, source);
    parsed.set(path, p);
    visiting.add(path);
    for (const i of p.imports) visit(i.from, [...chain, path]);
    visiting.delete(path);
    order.push(path);
  };
  visit(entry, []);
  const ids = new Map(order.map((path, i) => [path, `__kiln${i}`]));
  const parts = order.map((path) => {
    const p = parsed.get(path) as Parsed;
    const bindings = p.imports.map((i) => {
      const dep = parsed.get(i.from) as Parsed;
      const names = i.names.split(',').map((n) => n.trim()).filter(Boolean).map((n) => {
        const [name = '', alias] = n.split(/\s+as\s+/);
        if (!dep.exports.includes(name)) throw new Error(`${path} imports ${name}, which ${i.from} does not export`);
        return alias ? `${name}: ${alias}` : name;
      });
      return `const { ${names.join(', ')} } = ${ids.get(i.from) ?? ''};`;
    });
    return `// ${path}\nconst ${ids.get(path) ?? ''} = (() => {\n${bindings.join('\n')}\n${p.body}\nreturn { ${p.exports.join(', ')} };\n})();`;
  });
  return `${parts.join('\n')}\n`;
}
