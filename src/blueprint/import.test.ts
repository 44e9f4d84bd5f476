/**
 * kiln import's YAML for a full blueprint (a golden file: KILN_UPDATE_SNAPSHOTS=1 rewrites it), the
 * command's file handling, and the loader: a blueprint builds and plans like a recipe, and what the
 * recipe loader says about the translation points at the blueprint's lines.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { importCommand } from '../cli/import.js';
import { UserError } from '../errors.js';
import { loadAnyRecipe, parseBlueprint } from './load.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const FULL = join(REPO, 'src/blueprint/testdata/full.toml');
const GOLDEN = join(REPO, 'src/blueprint/testdata/full.yaml');

void test('kiln import writes the commented recipe of a full blueprint (golden)', () => {
  const { yaml, warnings } = importCommand(FULL, {});
  if (process.env.KILN_UPDATE_SNAPSHOTS && yaml) writeFileSync(GOLDEN, yaml);
  assert.equal(yaml, readFileSync(GOLDEN, 'utf8'));
  assert.deepEqual(warnings, []);
});

void test('kiln import -o writes the file; it refuses a file that is no blueprint and to overwrite the blueprint', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-import-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'recipe.yaml');
  assert.deepEqual(importCommand(FULL, { output: out, type: 'qcow2' }), { warnings: [] });
  assert.match(readFileSync(out, 'utf8'), /^outputs:\n {2}- qcow2\n/m);
  assert.throws(() => importCommand(out, {}), { message: `${out}: kiln import reads osbuild-composer blueprints (*.toml)` });
  assert.throws(() => importCommand(FULL, { output: FULL }), /that is the blueprint itself/);
});

void test('a blueprint loads as the recipe it translates to', () => {
  const loaded = parseBlueprint('web.toml', readFileSync(FULL, 'utf8'), REPO, { env: {} });
  assert.equal(loaded.recipe.name, 'web-server');
  assert.equal(loaded.file, 'web.toml');
  assert.deepEqual(loaded.recipe.packages.slice(0, 2), ['apache2', 'tmux=3.3a-3']);
  assert.equal(loaded.recipe.files.find((f) => f.dst === '/srv/www/index.html')?.content, '<h1>${HOSTNAME}</h1>\n', 'blueprint text is literal, not a kiln variable');
});

void test("the recipe loader's messages about a translated blueprint point at the blueprint's line", () => {
  const text = 'name = "a"\n\n[[customizations.user]]\nname = "bob"\nuid = 10\n';
  assert.throws(() => parseBlueprint('bp.toml', text, REPO, { env: {} }), (err: unknown) => {
    assert.ok(err instanceof UserError);
    assert.deepEqual(err.diagnostics, [{ file: 'bp.toml', line: 5, col: 1, text: 'uid = 10', message: 'users[0].uid: 10 is too small (minimum 1000) (line 6 of the recipe `kiln import` makes of it)' }]);
    return true;
  });
});

void test('--type and --lenient are for blueprints only', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-import-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'r.yaml'), 'name: r\n');
  assert.throws(() => loadAnyRecipe(join(dir, 'r.yaml'), { type: 'qcow2' }), { message: '--type qcow2: image types are for blueprints (*.toml); a recipe names its formats in outputs:' });
  assert.throws(() => loadAnyRecipe(join(dir, 'r.yaml'), { lenient: true }), /--lenient is for blueprints/);
  writeFileSync(join(dir, 'b.toml'), 'name = "b"\n[customizations.rhsm]\n');
  const warnings: string[] = [];
  const loaded = loadAnyRecipe(join(dir, 'b.toml'), { env: {}, lenient: true, type: 'tar', onWarning: (w) => warnings.push(w.message) });
  assert.deepEqual(loaded.recipe.outputs, ['tar']);
  assert.deepEqual(warnings, ['customizations.rhsm: Red Hat Subscription Manager has no meaning on Debian (dropped: --lenient)']);
});
