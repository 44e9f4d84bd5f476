import assert from 'node:assert/strict';
import { test } from 'node:test';
import { recipeFileOf, relativeInFolder } from './upload.js';

void test('a picked folder: its own name stripped, its recipe file found', () => {
  assert.equal(relativeInFolder('server/recipe.yaml'), 'recipe.yaml');
  assert.equal(relativeInFolder('server/hooks/10.sh'), 'hooks/10.sh');
  assert.equal(recipeFileOf(['recipe.yaml', 'other.yaml']), 'recipe.yaml');
  assert.equal(recipeFileOf(['server.yaml', 'layers/x/layer.yaml']), 'server.yaml');
  assert.equal(recipeFileOf(['a.yaml', 'b.yaml']), undefined);
});
