import assert from 'node:assert/strict';
import { test } from 'node:test';
import { href, parseRoute } from './routes.js';

void test('every page has its route, with its parameters', () => {
  assert.deepEqual(parseRoute(''), { page: 'builds' });
  assert.deepEqual(parseRoute('#/builds?state=running&recipe=web'), { page: 'builds', state: 'running', recipe: 'web' });
  assert.deepEqual(parseRoute('#/builds/01jabc'), { page: 'build', id: '01jabc' });
  assert.deepEqual(parseRoute('#/new?recipe=web&version=3'), { page: 'new', recipe: 'web', version: 3 });
  assert.deepEqual(parseRoute('#/new?version=x'), { page: 'new' });
  assert.deepEqual(parseRoute('#/recipes'), { page: 'recipes' });
  assert.deepEqual(parseRoute('#/recipes/web'), { page: 'recipe', name: 'web' });
  assert.deepEqual(parseRoute('#/recipes/web/2'), { page: 'recipe', name: 'web', version: 2 });
  assert.deepEqual(parseRoute('#/compare?a=1&b=2'), { page: 'compare', a: '1', b: '2' });
  assert.deepEqual(parseRoute('#/workers'), { page: 'workers' });
  assert.deepEqual(parseRoute('#/admin'), { page: 'admin' });
  assert.deepEqual(parseRoute('#/signin?next=%23%2Fworkers'), { page: 'signin', next: '#/workers' });
  assert.deepEqual(parseRoute('#/nope/x'), { page: 'missing', path: '/nope/x' });
});

void test('href leaves empty values out and round-trips through parseRoute', () => {
  assert.equal(href('/builds', { state: '', recipe: 'web' }), '#/builds?recipe=web');
  assert.deepEqual(parseRoute(href('/compare', { a: 'x1', b: 'y2' })), { page: 'compare', a: 'x1', b: 'y2' });
});
