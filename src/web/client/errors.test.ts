import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diagnosticPlace, explain } from './errors.js';

const body = (code: string, message: string, extra: object = {}) => ({ error: { code, message, ...extra } });

void test('401 and 403 read differently, and say what to do', () => {
  const u = explain(401, body('unauthorized', 'the bearer token is unknown, revoked or malformed'));
  const f = explain(403, body('forbidden', 'this token (scopes: read) lacks the scope build'));
  assert.equal(u.title, 'The server does not accept this token.');
  assert.match(u.action, /revoked/);
  assert.equal(f.title, 'Your token is valid, but it may not do this.');
  assert.equal(f.detail, 'this token (scopes: read) lacks the scope build');
  assert.match(f.action, /scope/);
});

void test('a refused recipe keeps its positioned diagnostics and the request id', () => {
  const d = { file: 'recipe.yaml', line: 3, col: 7, message: 'disk.size: "10X" is not a size' };
  const e = explain(422, body('invalid_recipe', 'recipe.yaml:3:7 disk.size: "10X" is not a size', { diagnostics: [d], requestId: 'r-1' }));
  assert.equal(e.title, 'The recipe does not validate.');
  assert.deepEqual(e.diagnostics, [d]);
  assert.equal(e.requestId, 'r-1');
  assert.equal(diagnosticPlace(d), 'recipe.yaml:3:7');
  assert.equal(diagnosticPlace({ file: 'a.yaml', message: 'x' }), 'a.yaml');
});

void test('no body, a body that is not an ErrorBody, no answer at all: still words, never JSON', () => {
  assert.equal(explain(0, undefined).title, 'The server cannot be reached.');
  assert.equal(explain(503, '<html>').title, 'The server is unavailable (HTTP 503).');
  const odd = explain(418, { message: 'x' });
  assert.equal(odd.title, 'The server answered HTTP 418 without an explanation.');
  assert.equal(odd.detail, undefined);
  for (const e of [explain(0, undefined), explain(503, '<html>'), odd]) assert.doesNotMatch(`${e.title} ${e.action}`, /[{}]/);
});

void test('an unknown code falls back to the status, keeping the server’s words', () => {
  const e = explain(409, body('something_new', 'build x has already succeeded'));
  assert.equal(e.title, 'That cannot be done in the current state.');
  assert.equal(e.detail, 'build x has already succeeded');
});

void test('every code the server sends has its own sentence', () => {
  for (const code of ['unauthorized', 'forbidden', 'not_found', 'invalid_request', 'invalid_recipe', 'invalid_bundle', 'too_large', 'conflict', 'lease_lost', 'no_space', 'internal']) {
    assert.doesNotMatch(explain(499, body(code, 'm')).title, /HTTP 499/, code);
  }
});
