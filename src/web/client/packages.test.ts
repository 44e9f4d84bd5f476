import assert from 'node:assert/strict';
import { test } from 'node:test';
import { comparePackages, filterPackages, licencesOf, packageRows } from './packages.js';

const buildJson = {
  name: 'container',
  packages: [
    { name: 'ca-certificates', version: '20230311', arch: 'all', layers: ['recipe'] },
    { name: 'libc6', version: '2.36-9', arch: 'amd64', layers: [] },
  ],
};
const cdx = {
  bomFormat: 'CycloneDX',
  components: [
    { name: 'ca-certificates', version: '20230311', licenses: [{ expression: 'GPL-2.0-or-later AND MPL-2.0' }], properties: [{ name: 'kiln:deb:architecture', value: 'all' }] },
    { name: 'libc6', version: '2.36-9', properties: [{ name: 'kiln:deb:architecture', value: 'amd64' }] },
  ],
};

void test('build.json packages joined with CycloneDX licences by name and arch', () => {
  assert.deepEqual(packageRows(buildJson, cdx), [
    { name: 'ca-certificates', version: '20230311', arch: 'all', layers: ['recipe'], license: 'GPL-2.0-or-later AND MPL-2.0' },
    { name: 'libc6', version: '2.36-9', arch: 'amd64', layers: [], license: '' },
  ]);
  assert.equal(licencesOf({ components: [{ name: 'x', licenses: [{ license: { id: 'MIT' } }] }] }).get('x:'), 'MIT');
  assert.deepEqual(packageRows({ nothing: true }), []);
});

void test('search matches every word across name, version, licence and layer', () => {
  const rows = packageRows(buildJson, cdx);
  assert.deepEqual(filterPackages(rows, 'mpl').map((r) => r.name), ['ca-certificates']);
  assert.deepEqual(filterPackages(rows, 'libc 2.36').map((r) => r.name), ['libc6']);
  assert.deepEqual(filterPackages(rows, 'recipe gpl').map((r) => r.name), ['ca-certificates']);
  assert.equal(filterPackages(rows, '  ').length, 2);
});

void test('two builds compared as kiln diff does: by name and arch', () => {
  const a = packageRows(buildJson);
  const b = packageRows({ packages: [{ name: 'libc6', version: '2.36-9+deb12u1', arch: 'amd64', layers: [] }, { name: 'sudo', version: '1.9', arch: 'amd64', layers: ['recipe'] }] });
  const d = comparePackages(a, b);
  assert.deepEqual(d.added.map((p) => p.name), ['sudo']);
  assert.deepEqual(d.removed.map((p) => p.name), ['ca-certificates']);
  assert.deepEqual(d.changed, [{ name: 'libc6', arch: 'amd64', from: '2.36-9', to: '2.36-9+deb12u1' }]);
});
