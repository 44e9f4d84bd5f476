import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TAR_FILTER } from './tar-filter.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-tar-filter-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const filter = join(dir, 'mmtarfilter');
writeFileSync(filter, TAR_FILTER, { mode: 0o755 });

// A package tree as dpkg-deb gives it: docs, translations, a name long enough for GNU's long-name
// header and pax's path record, a symlink and a file name with glob characters in it.
const tree = join(dir, 'tree');
const long = `usr/share/doc/pkg/${'very-long-folder-name/'.repeat(6)}NEWS`;
const kept = `usr/lib/pkg/${'another-long-folder-name/'.repeat(6)}data.bin`;
for (const [path, text] of [
  ['usr/bin/tool', '#!/bin/sh\n'],
  ['usr/share/doc/pkg/copyright', 'GPL\n'],
  ['usr/share/doc/pkg/changelog.gz', 'log\n'],
  [long, 'news\n'],
  [kept, 'x'.repeat(70_000)],
  ['usr/share/locale/de/LC_MESSAGES/pkg.mo', 'mo\n'],
  ['usr/share/locale/locale.alias', 'alias\n'],
  ['usr/share/man/man1/tool.1.gz', 'man\n'],
  ['usr/share/pkg/a[1].conf', 'brackets\n'],
] as const) {
  mkdirSync(join(tree, path, '..'), { recursive: true });
  writeFileSync(join(tree, path), text);
}
symlinkSync('tool.1.gz', join(tree, 'usr/share/man/man1/alias.1.gz'));
const RULES = [
  '--path-exclude=/usr/share/doc/*',
  '--path-exclude=/usr/share/man/*',
  '--path-exclude=/usr/share/locale/*',
  '--path-exclude=/usr/share/pkg/a[[]?]*',
  '--path-include=/usr/share/doc/*/copyright',
  '--path-include=/usr/share/locale/locale.alias',
];

function run(command: string, args: string[], input?: Buffer): Buffer {
  const r = spawnSync(command, args, { input, maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, `${command} ${args.join(' ')}: ${r.stderr.toString()}`);
  return r.stdout;
}
const list = (tar: Buffer) => run('tar', ['-tv', '--numeric-owner', '--full-time', '-f', '-'], tar).toString();
const names = (tar: Buffer) => run('tar', ['-t', '-f', '-'], tar).toString().trim().split('\n');

for (const format of ['gnu', 'pax', 'ustar'] as const) {
  void test(`tar filter (${format} archive): dpkg's path rules, the last matching one deciding; kept members' bytes unchanged`, () => {
    // ustar has no long names beyond its 155-byte prefix; the long paths here fit in it.
    const tar = run('tar', ['-C', tree, `--format=${format}`, '--sort=name', '-c', '.']);
    const out = run(filter, RULES, tar);
    assert.deepEqual(names(out), [
      './',
      './usr/',
      './usr/bin/',
      './usr/bin/tool',
      './usr/lib/',
      './usr/lib/pkg/',
      ...[1, 2, 3, 4, 5, 6].map((n) => `./usr/lib/pkg/${'another-long-folder-name/'.repeat(n)}`),
      `./${kept}`,
      './usr/share/',
      './usr/share/doc/',
      './usr/share/doc/pkg/copyright',
      './usr/share/locale/',
      './usr/share/locale/locale.alias',
      './usr/share/man/',
      './usr/share/pkg/',
    ]);
    const extracted = join(dir, `out-${format}`);
    mkdirSync(extracted);
    run('tar', ['-x', '-C', extracted, '-f', '-'], out);
    assert.equal(readFileSync(join(extracted, kept), 'utf8'), 'x'.repeat(70_000));
  });
}

void test("tar filter: the same members, modes, owners and times as Debian's mmtarfilter", () => {
  for (const format of ['gnu', 'pax']) {
    const tar = run('tar', ['-C', tree, `--format=${format}`, '--sort=name', '-c', '.']);
    assert.equal(list(run(filter, RULES, tar)), list(run('/usr/bin/mmtarfilter', RULES, tar)), format);
  }
});

void test('tar filter: other options (here --strip-components) go to the real mmtarfilter', () => {
  const tar = run('tar', ['-C', tree, '--sort=name', '-c', './usr/bin']);
  assert.deepEqual(names(run(filter, ['--strip-components=2'], tar)), ['bin/', 'bin/tool']);
});

void test('tar filter: with no rules, every member passes', () => {
  const tar = run('tar', ['-C', tree, '--format=gnu', '--sort=name', '-c', '.']);
  assert.deepEqual(names(run(filter, [], tar)), names(tar));
});
