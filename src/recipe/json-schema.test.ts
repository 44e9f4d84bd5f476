/**
 * The exported JSON Schema: a snapshot (any change to the recipe's keys, types, defaults or allowed
 * values shows up in review; KILN_UPDATE_SNAPSHOTS=1 rewrites it), and every example and fixture
 * recipe passes it, as editors will check them.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { recipeJsonSchema } from './json-schema.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const SNAPSHOT = join(REPO, 'src/recipe/testdata/recipe.schema.json');

void test('the recipe JSON Schema matches its snapshot', () => {
  const now = `${JSON.stringify(recipeJsonSchema(), null, 2)}\n`;
  if (process.env.KILN_UPDATE_SNAPSHOTS) writeFileSync(SNAPSHOT, now);
  assert.equal(now, readFileSync(SNAPSHOT, 'utf8'), 'the schema changed: review it, then run the test with KILN_UPDATE_SNAPSHOTS=1');
});

void test('every example and fixture recipe passes the JSON Schema; a wrong value does not', () => {
  const validate = new Ajv2020({ strict: false, allErrors: true }).compile(recipeJsonSchema());
  const recipes = [
    ...readdirSync(join(REPO, 'examples')).filter((f) => f.endsWith('.yaml')).map((f) => join(REPO, 'examples', f)),
    ...['layered/recipe.yaml', 'reproducible/recipe.yaml', 'outputs/disk.yaml', 'lock/small.yaml'].map((f) => join(REPO, 'test/e2e/fixtures', f)),
  ];
  for (const file of recipes) assert.ok(validate(parse(readFileSync(file, 'utf8'))), `${file}: ${JSON.stringify(validate.errors)}`);
  assert.ok(validate({ name: 'x', arch: '${ARCH}', bootloader: '${BOOT:-grub-efi}' }), 'a variable stands for any value');
  assert.ok(!validate({ name: 'x', arch: 'sparc' }));
  assert.ok(!validate({ name: 'x', disk: { partitions: [{ name: 'a', size: '1G', fs: 'xfs' }] } }));
  assert.ok(!validate({ name: 'x', hostnme: 'typo' }));
});
