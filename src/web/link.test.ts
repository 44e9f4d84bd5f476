import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runInNewContext } from 'node:vm';
import { clientFiles, CLIENT_DIR } from './assets.js';
import { linkModules } from './link.js';

const modules = (entries: Record<string, string>) => new Map(Object.entries(entries));

void test('modules run dependencies first, each in its own scope, with renamed imports', () => {
  const script = linkModules(
    modules({
      'a.js': "import { twice as double } from './lib/b.js';\nimport { base } from './c.js';\nconst local = 'a';\nlog.push(`${local} ${double(base)}`);\n",
      'lib/b.js': "import { base } from '../c.js';\nconst local = 'b';\nexport function twice(x) { return 2 * x + base - base; }\nlog.push(local);\n",
      'c.js': "export const base = 21;\nexport class Unused {}\nlog.push('c');\nexport {};\n//# sourceMappingURL=c.js.map\n",
    }),
    'a.js',
  );
  const log: string[] = [];
  runInNewContext(script, { log });
  assert.deepEqual(log, ['c', 'b', 'a 42']);
  assert.doesNotMatch(script, /sourceMappingURL/);
});

void test('forms it does not know, missing names and cycles are refused, never guessed at', () => {
  assert.throws(() => linkModules(modules({ 'a.js': "import x from './b.js';\n", 'b.js': '' }), 'a.js'), /cannot join "import x from/);
  assert.throws(() => linkModules(modules({ 'a.js': "export default 1;\n" }), 'a.js'), /cannot join "export default 1;"/);
  assert.throws(() => linkModules(modules({ 'a.js': "const m = import('./b.js');\n" }), 'a.js'), /dynamic import/);
  assert.throws(() => linkModules(modules({ 'a.js': "import { y } from './b.js';\n", 'b.js': 'export const x = 1;\n' }), 'a.js'), /imports y, which b.js does not export/);
  assert.throws(() => linkModules(modules({ 'a.js': "import { x } from './b.js';\nexport const y = 1;\n", 'b.js': "import { y } from './a.js';\nexport const x = 1;\n" }), 'a.js'), /import cycle: a.js → b.js → a.js/);
  assert.throws(() => linkModules(modules({ 'a.js': "import { x } from './gone.js';\n" }), 'a.js'), /a.js imports gone.js, which is not there/);
});

void test('the interface itself joins into one script', () => {
  const files = new Map([...clientFiles(CLIENT_DIR)].filter(([p]) => p.endsWith('.js')).map(([p, b]) => [p, b.toString()]));
  const script = linkModules(files, 'app.js');
  for (const path of files.keys()) assert.match(script, new RegExp(`// ${path.replace('.', '\\.')}\n`), `${path} is in the script`);
  assert.doesNotMatch(script, /^\s*(import|export)\b/m);
});
