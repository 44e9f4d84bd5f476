import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scanToml } from './toml-positions.js';

const TEXT = `# comment with key = "x"
name = "a" # trailing
description = """
[not.a.table]
fake = 1
"""
packages = [
  { name = "vim", version = "*" },
  { name = 'tmux' },
]
[customizations]
"host name" = "x"
kernel.append = "quiet"
[[customizations.user]]
name = "a"
[[customizations.user]]
name = "b"
[customizations.user.extra]
x = 1
`;

void test('the TOML scanner finds keys, array elements, tables and arrays of tables, skipping strings and comments', () => {
  const p = scanToml(TEXT);
  const at = (...path: (string | number)[]) => { const { line, col } = p.of(path); return `${line}:${col}`; };
  assert.equal(at('name'), '2:1');
  assert.equal(at('description'), '3:1');
  assert.equal(at('fake'), '1:1', 'a key inside a multi-line string is no key (the file start stands in)');
  assert.equal(at('packages', 0), '8:3');
  assert.equal(at('packages', 0, 'version'), '8:19');
  assert.equal(at('packages', 1, 'name'), '9:5');
  assert.equal(at('customizations'), '11:1');
  assert.equal(at('customizations', 'host name'), '12:1');
  assert.equal(at('customizations', 'kernel', 'append'), '13:1');
  assert.equal(at('customizations', 'user', 0, 'name'), '15:1');
  assert.equal(at('customizations', 'user', 1, 'name'), '17:1');
  assert.equal(at('customizations', 'user', 1, 'extra', 'x'), '19:1');
  assert.equal(at('customizations', 'user', 1, 'missing'), '16:1', 'a missing key: its nearest parent');
  assert.equal(p.text(12), '"host name" = "x"');
});
