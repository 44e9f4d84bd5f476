import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromFile, fromFolder, isBlueprintPick, pushQuery, recipeFileOf, relativeInFolder } from './upload.js';

void test('a picked folder: its own name stripped, its recipe file found', () => {
  assert.equal(relativeInFolder('server/recipe.yaml'), 'recipe.yaml');
  assert.equal(relativeInFolder('server/hooks/10.sh'), 'hooks/10.sh');
  assert.equal(recipeFileOf(['recipe.yaml', 'other.yaml']), 'recipe.yaml');
  assert.equal(recipeFileOf(['server.yaml', 'layers/x/layer.yaml']), 'server.yaml');
  assert.equal(recipeFileOf(['a.yaml', 'b.yaml']), undefined);
});

void test('a folder with no YAML recipe: its only top-level blueprint, as the server picks it', () => {
  assert.equal(recipeFileOf(['image.toml', 'keys/repo.asc']), 'image.toml');
  assert.equal(recipeFileOf(['image.toml', 'server.yaml']), 'server.yaml', 'a YAML recipe comes first');
  assert.equal(recipeFileOf(['a.yaml', 'b.yaml', 'image.toml']), undefined, 'several YAML files: the blueprint is not taken instead');
  assert.equal(recipeFileOf(['a.toml', 'b.toml']), undefined);
  assert.equal(recipeFileOf(['sub/image.toml']), undefined);
  assert.equal(isBlueprintPick(undefined, ['bp/image.toml', 'bp/keys/repo.asc']), true);
  assert.equal(isBlueprintPick(undefined, ['bp/image.toml', 'bp/recipe.yaml']), false);
  assert.equal(isBlueprintPick('image.toml', []), true);
  assert.equal(isBlueprintPick('recipe.yaml', ['bp/image.toml']), false, 'a picked file wins over a folder, as on upload');
  assert.equal(isBlueprintPick('bundle.tar.gz', []), false);
});

void test('a .toml file is sent as application/toml under its name, its text kept for diagnostics', async () => {
  const text = 'name = "web"\n[customizations]\nhostname = "w"\n';
  const upload = await fromFile(new File([text], 'web.toml'));
  assert.equal(upload.contentType, 'application/toml');
  assert.equal(upload.file, 'web.toml');
  assert.equal(upload.blueprint, true);
  assert.deepEqual([...upload.texts], [['web.toml', text]]);
  assert.equal(await upload.body.text(), text);
  const yaml = await fromFile(new File(['name: x\n'], 'recipe.yaml'));
  assert.deepEqual([yaml.contentType, yaml.file, yaml.blueprint], ['application/yaml', undefined, false]);
  await assert.rejects(fromFile(new File(['x'], 'notes.txt')), /notes\.txt: pick a recipe \(\.yaml\), a blueprint \(\.toml\), a bundle \(\.tar, \.tar\.gz\) or a folder/);
});

void test('a folder whose recipe is a blueprint names it, and keeps its text', async () => {
  const upload = await fromFolder([new File(['name = "f"\n'], 'image.toml'), new File(['key'], 'repo.asc')]);
  assert.equal(upload.file, 'image.toml');
  assert.equal(upload.blueprint, true);
  assert.deepEqual([...upload.texts.keys()], ['image.toml']);
  const yaml = await fromFolder([new File(['name: x\n'], 'recipe.yaml'), new File(['name = "f"\n'], 'image.toml')]);
  assert.deepEqual([yaml.file, yaml.blueprint], [undefined, false]);
});

void test('the blueprint options go into the query only for a blueprint', async () => {
  const blueprint = await fromFile(new File(['name = "a b"\n'], 'my image.toml'));
  assert.equal(pushQuery(blueprint, { lenient: true, type: ' qcow2 ' }), '?file=my+image.toml&lenient=true&type=qcow2');
  assert.equal(pushQuery(blueprint, { lenient: false, type: '' }), '?file=my+image.toml');
  const yaml = await fromFile(new File(['name: x\n'], 'recipe.yaml'));
  assert.equal(pushQuery(yaml, { lenient: true, type: 'qcow2' }), '', 'the fields may still hold values from an earlier pick');
});
