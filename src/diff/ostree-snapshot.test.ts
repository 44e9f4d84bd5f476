/** `ostree ls -R -C` lines as kiln diff reads a commit's files. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareSnapshots } from './compare.js';
import { parseOstreeLs } from './ostree-snapshot.js';

const SUM = (c: string) => c.repeat(64);
const LS = [
  `d00755 0 0      0 ${SUM('a')} ${SUM('b')} /`,
  `l00777 0 0      0 ${SUM('c')} /home -> var/home`,
  `d00755 0 0      0 ${SUM('d')} ${SUM('b')} /usr`,
  `-00755 0 0 158632 ${SUM('e')} /usr/bin/ls`,
  `-04755 0 0  72000 ${SUM('f')} /usr/bin/su`,
  '',
].join('\n');

void test('ostree ls: files with mode, owner, size and object checksum; links with their target; folders without a checksum', () => {
  const files = parseOstreeLs(LS);
  assert.deepEqual([...files.keys()], ['/', '/home', '/usr', '/usr/bin/ls', '/usr/bin/su']);
  assert.deepEqual(files.get('/usr/bin/ls'), { type: 'file', mode: 0o755, uid: 0, gid: 0, size: 158632, mtime: 0, sha256: SUM('e') });
  assert.equal(files.get('/usr/bin/su')?.mode, 0o4755);
  assert.deepEqual(files.get('/home'), { type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, mtime: 0, target: 'var/home' });
  assert.equal(files.get('/usr')?.sha256, undefined);
});

void test('two commits compared: an added file, a changed one, and packages', () => {
  const a = { source: 'a', regions: [], unread: [], packages: [{ name: 'ls', version: '1', arch: 'amd64' }], files: parseOstreeLs(LS) };
  const changed = LS.replace(`158632 ${SUM('e')}`, `158640 ${SUM('9')}`).replace(`d00755 0 0      0 ${SUM('d')}`, `d00755 0 0      0 ${SUM('8')}`);
  const b = { source: 'b', regions: [], unread: [], packages: [...a.packages, { name: 'less', version: '668-1', arch: 'amd64' }], files: parseOstreeLs(`${changed}-00755 0 0 100 ${SUM('7')} /usr/bin/less\n`) };
  const diff = compareSnapshots(a, b);
  assert.equal(diff.identical, false);
  assert.deepEqual(diff.packages.added.map((p) => p.name), ['less']);
  assert.deepEqual(diff.files.added, ['/usr/bin/less']);
  assert.deepEqual(diff.files.changed.map((c) => c.path), ['/usr/bin/ls'], 'a folder whose content changed is not itself a change');
});
