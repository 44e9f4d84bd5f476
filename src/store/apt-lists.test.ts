import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { keepLists, listsFolder, seedLists } from './apt-lists.js';

function root(sources: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-lists-root-'));
  mkdirSync(join(dir, 'etc/apt/sources.list.d'), { recursive: true });
  mkdirSync(join(dir, 'var/lib/apt/lists/partial'), { recursive: true });
  writeFileSync(join(dir, 'etc/apt/sources.list'), sources);
  return dir;
}

void test('lists kept after an update come back, with their times, into a root with the same sources and arch only', async () => {
  const cache = mkdtempSync(join(tmpdir(), 'kiln-lists-'));
  const first = root('deb http://deb.debian.org/debian trixie main\n');
  const lists = join(first, 'var/lib/apt/lists');
  writeFileSync(join(lists, 'deb.debian.org_debian_dists_trixie_InRelease'), 'signed');
  writeFileSync(join(lists, 'deb.debian.org_debian_dists_trixie_main_binary-amd64_Packages'), 'Package: zstd\n');
  writeFileSync(join(lists, 'lock'), '');
  const modified = new Date('2026-11-30T12:00:00Z');
  utimesSync(join(lists, 'deb.debian.org_debian_dists_trixie_InRelease'), modified, modified);
  await keepLists(cache, 'amd64', first);

  const second = root('deb http://deb.debian.org/debian trixie main\n');
  assert.equal(await seedLists(cache, 'amd64', second), 2);
  const seeded = join(second, 'var/lib/apt/lists');
  assert.deepEqual(readdirSync(seeded).sort(), ['deb.debian.org_debian_dists_trixie_InRelease', 'deb.debian.org_debian_dists_trixie_main_binary-amd64_Packages', 'partial']);
  assert.equal(readFileSync(join(seeded, 'deb.debian.org_debian_dists_trixie_main_binary-amd64_Packages'), 'utf8'), 'Package: zstd\n');
  assert.equal(statSync(join(seeded, 'deb.debian.org_debian_dists_trixie_InRelease')).mtime.toISOString(), modified.toISOString());

  const other = root('deb http://deb.debian.org/debian trixie main\n');
  assert.equal(await seedLists(cache, 'arm64', other), 0, 'another architecture');
  const extra = root('deb http://deb.debian.org/debian trixie main\n');
  writeFileSync(join(extra, 'etc/apt/sources.list.d/extra.sources'), 'Types: deb\nURIs: http://127.0.0.1:8000/\n');
  assert.equal(await seedLists(cache, 'amd64', extra), 0, 'another source');
  assert.notEqual(await listsFolder(cache, 'amd64', extra), await listsFolder(cache, 'amd64', second));
  for (const dir of [cache, first, second, other, extra]) rmSync(dir, { recursive: true, force: true });
});

void test('an updated list replaces the kept one; no temporary file is left', async () => {
  const cache = mkdtempSync(join(tmpdir(), 'kiln-lists-'));
  const dir = root('deb http://deb.debian.org/debian trixie main\n');
  const file = join(dir, 'var/lib/apt/lists/deb.debian.org_debian_dists_trixie_InRelease');
  writeFileSync(file, 'old');
  await keepLists(cache, 'amd64', dir);
  writeFileSync(file, 'newer');
  await keepLists(cache, 'amd64', dir);
  const kept = await listsFolder(cache, 'amd64', dir);
  assert.deepEqual(readdirSync(kept), ['deb.debian.org_debian_dists_trixie_InRelease']);
  assert.equal(readFileSync(join(kept, 'deb.debian.org_debian_dists_trixie_InRelease'), 'utf8'), 'newer');
  for (const d of [cache, dir]) rmSync(d, { recursive: true, force: true });
});
