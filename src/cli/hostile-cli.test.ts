/**
 * The whole command on hostile recipes: exit 2 with a code frame on stderr, never exit 70 (an
 * "internal error") and never a stack trace. The library-level table is src/recipe/hostile.test.ts;
 * this proves the CLI's own path (reading the file, reporting) adds no crash of its own.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const folder = mkdtempSync(join(tmpdir(), 'kiln-cli-hostile-'));
after(() => rmSync(folder, { recursive: true, force: true }));

function plan(file: string): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, [MAIN, 'plan', file], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
  return { status: result.status, stderr: result.stderr };
}

const bomb = ['a: &a [x,x,x,x,x,x,x,x,x,x]', ...'bcdefgh'.split('').map((n, i) => `${n}: &${n} [${Array(10).fill(`*${'abcdefg'[i]}`).join(',')}]`)].join('\n');
const CASES: [string, string | Buffer, RegExp][] = [
  ['an alias bomb', bomb, /^error: \S+:5:29 the document expands to more than 100000 values/],
  ['a megabyte of [', '['.repeat(1024 * 1024 - 1), /^error: \S+:1:128 values are nested far more than 32 levels deep/],
  ['binary garbage', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)), /^error: \S+:1:1 holds a NUL byte/],
  ['two swapped keys and a tab', 'distro:\nname: x\n\trelease: sid\n', /^error: \S+:3:1 /],
];

for (const [name, content, message] of CASES) {
  void test(`kiln plan on ${name}: exit 2, a positioned message, no stack trace`, () => {
    const file = join(folder, `${name.replace(/\W+/g, '-')}.yaml`);
    writeFileSync(file, content);
    const { status, stderr } = plan(file);
    assert.equal(status, 2, stderr);
    assert.match(stderr, message);
    assert.doesNotMatch(stderr, /internal error|\n\s+at /);
  });
}

void test('kiln plan of a device is exit 2 at once, not a read that never ends', () => {
  const { status, stderr } = plan('/dev/zero');
  assert.equal(status, 2);
  assert.equal(stderr, 'error: /dev/zero is not a regular file (a device, FIFO or socket); give a recipe YAML file\n');
});
