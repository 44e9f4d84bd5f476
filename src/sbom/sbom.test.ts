import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cyclonedxDocument, purlOf, spdxDocument, type SbomInput } from './document.js';
import { parseStatus } from './dpkg.js';
import { licenseOf } from './licenses.js';
import { validateSbom } from './validate.js';

const STATUS = `Package: libc6
Status: install ok installed
Architecture: amd64
Source: glibc (2.36-9+deb12u4)
Version: 2.36-9+deb12u4
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Description: GNU C Library: Shared libraries
 Contains the standard libraries.

Package: systemd
Status: install ok installed
Architecture: amd64
Version: 252.39-1~deb12u2
Maintainer: Debian systemd Maintainers <pkg-systemd-maintainers@lists.alioth.debian.org>

Package: gone
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0
`;

const DEP5 = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: demo

Files: *
Copyright: 2020 Someone
License: GPL-2+

Files: lib/*
Copyright: 2021 Other
License: LGPL-2.1+ or Expat

License: GPL-2+
 The full text.
`;

void test('dpkg status: installed packages only, with source name and version', () => {
  assert.deepEqual(parseStatus(STATUS), [
    { name: 'libc6', version: '2.36-9+deb12u4', arch: 'amd64', source: 'glibc', sourceVersion: '2.36-9+deb12u4', maintainer: 'GNU Libc Maintainers <debian-glibc@lists.debian.org>' },
    { name: 'systemd', version: '252.39-1~deb12u2', arch: 'amd64', source: 'systemd', sourceVersion: '252.39-1~deb12u2', maintainer: 'Debian systemd Maintainers <pkg-systemd-maintainers@lists.alioth.debian.org>' },
  ]);
});

void test('licenses: DEP-5 names become SPDX expressions; anything unknown is NOASSERTION', () => {
  assert.equal(licenseOf(DEP5), '(LGPL-2.1-or-later OR MIT) AND GPL-2.0-or-later');
  assert.equal(licenseOf(DEP5.replace('License: GPL-2+\n\nFiles', 'License: public-domain\n\nFiles')), 'NOASSERTION');
  assert.equal(licenseOf('This package was debianized by someone.\nIt is GPL.\n'), 'NOASSERTION');
  assert.equal(licenseOf(undefined), 'NOASSERTION');
  assert.equal(licenseOf(DEP5.replace('GPL-2+\n\nFiles: lib', 'BSD-3-clause\n\nFiles: lib')), '(LGPL-2.1-or-later OR MIT) AND BSD-3-Clause');
});

const INPUT: SbomInput = {
  name: 'demo',
  kilnVersion: '0.1.0',
  created: '2026-11-22T00:00:00Z',
  distro: { id: 'debian', versionId: '12' },
  image: { file: 'demo.raw', sha256: 'a'.repeat(64) },
  packages: parseStatus(STATUS).map((p) => ({ ...p, license: p.name === 'libc6' ? 'LGPL-2.1-or-later' : 'NOASSERTION' })),
};

void test('purl: pkg:deb/debian/NAME@VERSION?arch=ARCH&distro=debian-12', () => {
  assert.equal(purlOf(INPUT.packages[0] ?? INPUT.packages[1]!, INPUT.distro), 'pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64&distro=debian-12');
});

void test('both documents validate against the official schemas', () => {
  assert.deepEqual(validateSbom('spdx', spdxDocument(INPUT)), []);
  assert.deepEqual(validateSbom('cyclonedx', cyclonedxDocument(INPUT)), []);
});

void test('the validators catch a broken document', () => {
  const spdx = spdxDocument(INPUT) as Record<string, unknown>;
  delete spdx.spdxVersion;
  assert.notDeepEqual(validateSbom('spdx', spdx), []);
  const cdx = { ...(cyclonedxDocument(INPUT) as Record<string, unknown>), specVersion: 1.6 };
  assert.notDeepEqual(validateSbom('cyclonedx', cdx), []);
});

void test('the image is the root element, with its sha256', () => {
  const spdx = spdxDocument(INPUT) as { packages: { SPDXID: string; checksums?: unknown }[]; relationships: { relationshipType: string }[] };
  assert.deepEqual(spdx.packages[0]?.checksums, [{ algorithm: 'SHA256', checksumValue: 'a'.repeat(64) }]);
  assert.equal(spdx.relationships.filter((r) => r.relationshipType === 'CONTAINS').length, 2);
  const cdx = cyclonedxDocument(INPUT) as { metadata: { component: { hashes: unknown } } };
  assert.deepEqual(cdx.metadata.component.hashes, [{ alg: 'SHA-256', content: 'a'.repeat(64) }]);
});
