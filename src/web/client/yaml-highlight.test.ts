import assert from 'node:assert/strict';
import { test } from 'node:test';
import { highlightLine, highlightYaml, type HighlightState, type Token } from './yaml-highlight.js';

const show = (tokens: Token[]) => tokens.filter((t) => t.kind !== 'text').map((t) => `${t.kind}:${t.text}`);

void test('keys, plain scalars of each kind, and comments', () => {
  const lines = highlightYaml('name: server   # the name\nsize: 2G\ncount: 12\nenabled: true\nnothing: ~\n');
  assert.deepEqual(show(lines[0] ?? []), ['key:name', 'punct::', 'string:server', 'comment:# the name']);
  assert.deepEqual(show(lines[1] ?? []), ['key:size', 'punct::', 'string:2G']);
  assert.deepEqual(show(lines[2] ?? []), ['key:count', 'punct::', 'number:12']);
  assert.deepEqual(show(lines[3] ?? []), ['key:enabled', 'punct::', 'bool:true']);
  assert.deepEqual(show(lines[4] ?? []), ['key:nothing', 'punct::', 'null:~']);
});

void test('the text of every line is kept exactly (tokens join back to the line)', () => {
  const text = 'a: "x # not a comment"  # comment\n- { src: server/overlay/, dst: / }\n  - \'it\'\'s\'\nurl: http://x:80/y\n';
  for (const [i, tokens] of highlightYaml(text).entries()) assert.equal(tokens.map((t) => t.text).join(''), text.split('\n')[i]);
});

void test('quoted strings hide # and :, and ${VAR} references stand out', () => {
  assert.deepEqual(show(highlightLine('hostname: "${HOSTNAME:-kiln} # x"', {})), ['key:hostname', 'punct::', 'string:"', 'var:${HOSTNAME:-kiln}', 'string: # x"']);
  assert.deepEqual(show(highlightLine('url: http://x:80/y # c', {})), ['key:url', 'punct::', 'string:http://x:80/y', 'comment:# c']);
});

void test('flow collections and list items', () => {
  assert.deepEqual(show(highlightLine('packages: [openssh-server, sudo]', {})), ['key:packages', 'punct::', 'punct:[', 'string:openssh-server', 'punct:,', 'string:sudo', 'punct:]']);
  assert.deepEqual(show(highlightLine('  - { src: a/, dst: / }', {})), ['punct:-', 'punct:{', 'key:src', 'punct::', 'string:a/', 'punct:,', 'key:dst', 'punct::', 'string:/', 'punct:}']);
});

void test('a block scalar stays a string until the indentation drops back', () => {
  const lines = highlightYaml('script: |\n  echo a: b # not a key\n\n  true\nnext: 1');
  assert.deepEqual(show(lines[0] ?? []), ['key:script', 'punct::', 'punct:|']);
  assert.deepEqual(show(lines[1] ?? []), ['string:  echo a: b # not a key']);
  assert.deepEqual(show(lines[3] ?? []), ['string:  true']);
  assert.deepEqual(show(lines[4] ?? []), ['key:next', 'punct::', 'number:1']);
});

void test('documents, anchors, aliases and tags', () => {
  const state: HighlightState = {};
  assert.deepEqual(show(highlightLine('---', state)), ['doc:---']);
  assert.deepEqual(show(highlightLine('base: &b { a: 1 }', state)), ['key:base', 'punct::', 'anchor:&b', 'punct:{', 'key:a', 'punct::', 'number:1', 'punct:}']);
  assert.deepEqual(show(highlightLine('other: *b', state)), ['key:other', 'punct::', 'anchor:*b']);
  assert.deepEqual(show(highlightLine('x: !!str 12', state)), ['key:x', 'punct::', 'tag:!!str', 'number:12']);
});

void test('a broken line still comes back whole', () => {
  const line = 'name: [unclosed, "also';
  assert.equal(highlightLine(line, {}).map((t) => t.text).join(''), line);
});
