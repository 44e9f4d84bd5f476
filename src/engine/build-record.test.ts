import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { UserError } from '../errors.js';
import { readBuildRecord } from './build-record.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-record-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const CORE = {
  name: 'demo',
  kiln: '0.1.0',
  recipeHash: 'sha256:00',
  arch: 'arm64',
  started: '2026-12-01T00:00:00.000Z',
  seconds: 12.5,
  stages: [{ name: 'bootstrap', id: 'sha256:11', cached: true, seconds: 0.1, builtSeconds: 90 }],
  outputs: [{ file: 'demo.raw', format: 'raw', size: 1024, sha256: 'ab' }],
};

void test('build.json: its core is checked, the rest is kept as it was written', () => {
  writeFileSync(join(dir, 'build.json'), JSON.stringify({ ...CORE, packages: [] }));
  const record = readBuildRecord(join(dir, 'build.json'));
  assert.equal(record.arch, 'arm64');
  assert.deepEqual(record.outputs, CORE.outputs);
  assert.deepEqual(record.packages, []);
});

void test('a missing or foreign build.json is a UserError naming the file', () => {
  assert.throws(() => readBuildRecord(join(dir, 'none.json')), (err) => err instanceof UserError && err.message.startsWith(`${join(dir, 'none.json')}: cannot read the build record (ENOENT`));
  writeFileSync(join(dir, 'other.json'), JSON.stringify({ ...CORE, outputs: [{ file: 'demo.raw' }] }));
  assert.throws(() => readBuildRecord(join(dir, 'other.json')), (err) => err instanceof UserError && err.message.startsWith(`${join(dir, 'other.json')}: not a kiln build record: outputs.0.format: `));
});
