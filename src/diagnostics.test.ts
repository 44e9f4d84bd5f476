import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { codeFrame, renderDiagnostics, type Diagnostic } from './diagnostics.js';
import { UserError } from './errors.js';
import { parseRecipe } from './recipe/index.js';

const at = (line: number, col: number, text: string, message = 'x: wrong'): Diagnostic => ({ file: 'r.yaml', line, col, text, message });

void test('the first problem gets its line and a caret under the column', () => {
  assert.equal(renderDiagnostics([at(3, 9, '  size: 10X', 'disk.size: "10X" is not a size')]), ['r.yaml:3:9 disk.size: "10X" is not a size', '  3 |   size: 10X', '    |         ^'].join('\n'));
});

void test('a problem without a position is one line, with no frame', () => {
  assert.equal(renderDiagnostics([{ file: 'r.yaml', message: 'is empty' }]), 'r.yaml is empty');
});

void test('tabs and control characters show as one column each, so the caret stays in place', () => {
  assert.deepEqual(codeFrame(at(1, 4, '\ta\u202eb')), ['  1 |  a?b', '    |    ^']);
});

void test('a long line shows a window around the column', () => {
  const [line = '', caret = ''] = codeFrame(at(1, 500, `${'a'.repeat(499)}X${'b'.repeat(500)}`));
  assert.ok(line.length < 120, line);
  assert.equal(line[caret.indexOf('^')], 'X');
});

void test('after the first, four more problems and a count of the rest', () => {
  const list = Array.from({ length: 9 }, (_, i) => at(i + 1, 1, `line ${i + 1}`, `problem ${i + 1}`));
  const lines = renderDiagnostics(list).split('\n');
  assert.deepEqual(lines.slice(3), ['r.yaml:2:1 problem 2', 'r.yaml:3:1 problem 3', 'r.yaml:4:1 problem 4', 'r.yaml:5:1 problem 5', 'and 4 more (fix the first and run again: later ones often follow from it)']);
});

void test('two swapped lines of examples/server.yaml give a short report, not 150 lines', () => {
  const folder = fileURLToPath(new URL('../../examples/', import.meta.url));
  const lines = readFileSync(`${folder}server.yaml`, 'utf8').split('\n');
  [lines[0], lines[13]] = [lines[13] ?? '', lines[0] ?? ''];
  try {
    parseRecipe('server.yaml', lines.join('\n'), folder, { env: {} });
    assert.fail('the swapped recipe planned');
  } catch (err) {
    assert.ok(err instanceof UserError);
    assert.ok(err.diagnostics.length > 100, `${err.diagnostics.length} problems`);
    const shown = renderDiagnostics(err.diagnostics).split('\n');
    assert.equal(shown.length, 8);
    assert.match(shown[7] ?? '', /^and \d+ more/);
  }
});
