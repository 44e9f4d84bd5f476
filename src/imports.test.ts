/**
 * Imports point down: host ← store ← stages ← manifest ← engine ← cli (see ARCHITECTURE.md). The
 * rules are read from the import lines of every source file under src/, type-only imports included
 * (a type is a dependency too); test files may import from anywhere, since nothing imports them.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import ts from 'typescript';

// From <outDir>/src/ back to the sources: the rules are about the .ts files, not their output.
const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

interface Import {
  /** A path relative to src/ ("stages/grub.ts"), or the module name ("node:child_process", "zod"). */
  to: string;
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sourceFiles(join(dir, d.name)) : d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') ? [join(dir, d.name)] : [],
  );
}

/** Every import and re-export of a file, static and dynamic, with whether it is for types only. */
function importsOf(file: string, text: string): Import[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const found: Import[] = [];
  const add = (specifier: ts.Expression | undefined, typeOnly: boolean) => {
    if (!specifier || !ts.isStringLiteral(specifier)) return;
    const name = specifier.text;
    const to = name.startsWith('.') ? relative(SRC, resolve(dirname(file), name.replace(/\.js$/, '.ts'))) : name;
    found.push({ to, typeOnly });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) add(node.moduleSpecifier, node.importClause?.isTypeOnly ?? false);
    else if (ts.isExportDeclaration(node)) add(node.moduleSpecifier, node.isTypeOnly);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node.arguments[0], false);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const files = new Map(
  sourceFiles(SRC).map((path) => {
    const text = readFileSync(path, 'utf8');
    return [relative(SRC, path), { text, imports: importsOf(path, text) }] as const;
  }),
);
const isTest = (file: string) => file.endsWith('.test.ts');
const folderOf = (file: string) => (file.includes('/') ? file.slice(0, file.indexOf('/')) : '.');
const local = (file: string) => files.get(file)?.imports.filter((i) => files.has(i.to)) ?? [];
/** A stage file defines a stage; the other files in src/stages/ are helpers any stage may share. */
const isStage = (file: string) => file.startsWith('stages/') && !isTest(file) && /\bdefineStage\(/.test(files.get(file)?.text ?? '');

/** One cycle in a graph (as the path around it), or undefined. */
function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const walk = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'open');
    path.push(node);
    for (const next of [...(graph.get(node) ?? [])].sort()) {
      const cycle = walk(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of [...graph.keys()].sort()) {
    const cycle = walk(node);
    if (cycle) return cycle;
  }
  return undefined;
}

/** `from → to` for each import of a file outside tests that breaks `rule`. */
function offending(rule: (from: string, to: Import) => boolean): string[] {
  return [...files.keys()].filter((f) => !isTest(f)).flatMap((from) => (files.get(from)?.imports ?? []).filter((i) => rule(from, i)).map((i) => `${from} → ${i.to}`));
}

void test('the import reader finds imports, type-only ones and re-exports', () => {
  assert.ok(files.size > 100, `${files.size} files under ${SRC}`);
  assert.ok(local('engine/executor.ts').some((i) => i.to === 'stages/registry.ts' && !i.typeOnly));
  assert.ok(local('stages/define.ts').some((i) => i.to === 'host/exec.ts' && i.typeOnly));
  assert.ok(local('manifest/index.ts').some((i) => i.to === 'host/canonical.ts'));
});

void test('no import cycles between files', () => {
  const graph = new Map([...files.keys()].map((f) => [f, new Set(local(f).map((i) => i.to))]));
  assert.equal(findCycle(graph)?.join(' → '), undefined);
});

void test('no import cycles between folders (tests aside)', () => {
  const graph = new Map<string, Set<string>>();
  for (const file of [...files.keys()].filter((f) => !isTest(f))) {
    const edges = graph.get(folderOf(file)) ?? new Set<string>();
    for (const i of local(file)) if (folderOf(i.to) !== folderOf(file)) edges.add(folderOf(i.to));
    graph.set(folderOf(file), edges);
  }
  assert.equal(findCycle(graph)?.join(' → '), undefined);
});

void test('stages import neither the engine nor another stage', () => {
  assert.deepEqual(offending((from, i) => from.startsWith('stages/') && i.to.startsWith('engine/')), []);
  assert.deepEqual(offending((from, i) => isStage(from) && isStage(i.to)), []);
});

void test('host and store are below the engine; host needs nothing of kiln but errors.ts', () => {
  assert.deepEqual(offending((from, i) => (from.startsWith('store/') || from.startsWith('host/')) && i.to.startsWith('engine/')), []);
  assert.deepEqual(offending((from, i) => from.startsWith('host/') && files.has(i.to) && !i.to.startsWith('host/') && i.to !== 'errors.ts'), []);
});

void test('the compiler takes only types from the stage files (their code would come with them)', () => {
  assert.deepEqual(offending((from, i) => from.startsWith('manifest/') && isStage(i.to) && !i.typeOnly), []);
  assert.deepEqual(offending((from, i) => from.startsWith('manifest/') && i.to === 'stages/registry.ts' && !i.typeOnly), []);
});

void test('pure folders (recipe, manifest, disk) reach no node:child_process, not even through what they import', () => {
  const runtime = (file: string) => (files.get(file)?.imports ?? []).filter((i) => !i.typeOnly);
  const reaches = (start: string): string[] | undefined => {
    const seen = new Set<string>();
    const queue: string[][] = [[start]];
    for (let path = queue.shift(); path; path = queue.shift()) {
      const file = path.at(-1) ?? '';
      for (const i of runtime(file)) {
        if (i.to === 'node:child_process' || i.to === 'child_process') return [...path, i.to];
        if (files.has(i.to) && !seen.has(i.to)) {
          seen.add(i.to);
          queue.push([...path, i.to]);
        }
      }
    }
    return undefined;
  };
  const pure = [...files.keys()].filter((f) => !isTest(f) && ['recipe', 'manifest', 'disk'].includes(folderOf(f)));
  assert.deepEqual(pure.map(reaches).filter(Boolean).map((p) => p?.join(' → ')), []);
});
