import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Store, type EntryMeta } from './store.js';
import { arMembersFit, repair, verifyStore } from './verify-store.js';

const base = mkdtempSync(join(tmpdir(), 'kiln-verify-store-'));
after(() => rmSync(base, { recursive: true, force: true }));

const ID = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
const HEX = (n: number) => ID(n).slice(7);

function meta(n: number, stage: string, input: number | null, facts: EntryMeta['facts'] = {}): EntryMeta {
  return { id: ID(n), stage, kind: 'tree', input: input === null ? null : ID(input), recipe: { name: 'r', file: '/r.yaml' }, created: new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString(), seconds: 1, bytes: 1, facts };
}

/** A store with a bootstrap entry and a users entry on it, committed the way builds commit. */
async function store(name: string): Promise<Store> {
  const s = new Store(join(base, name));
  for (const [n, stage, input] of [[1, 'bootstrap', null], [2, 'users', 1]] as const) {
    const built = join(base, `${name}-built-${n}`);
    mkdirSync(join(built, 'tree/etc'), { recursive: true });
    writeFileSync(join(built, 'tree/etc/passwd'), `root:x:0:0::/root:/bin/sh\n${stage}\n`);
    await s.commit(built, meta(n, stage, input));
  }
  return s;
}

void test('a store as committed verifies clean', async () => {
  const report = await verifyStore(await store('clean'));
  assert.deepEqual({ entries: report.entries, corrupt: report.corrupt, problems: report.problems }, { entries: 2, corrupt: [], problems: [] });
});

void test('one flipped byte, a removed file and an extra file each name the entry, its stage and the file', async () => {
  const s = await store('damaged');
  const passwd = join(s.treeOf(ID(1)), 'etc/passwd');
  const bytes = readFileSync(passwd);
  bytes[0] = (bytes[0] ?? 0) ^ 1;
  writeFileSync(passwd, bytes);
  rmSync(join(s.treeOf(ID(2)), 'etc/passwd'));
  writeFileSync(join(s.treeOf(ID(2)), 'extra'), '');
  const report = await verifyStore(s);
  assert.deepEqual(report.corrupt, [ID(1), ID(2)]);
  const lines = report.problems.map((p) => `${p.subject} ${p.stage} ${p.file}: ${p.message.replace(/mtime "\d+" is now "\d+", /, '')}`);
  assert.match(lines[0] ?? '', new RegExp(`^${HEX(1).slice(0, 12)} bootstrap tree/etc/passwd: sha256 [0-9a-f]{12}… is now [0-9a-f]{12}…$`));
  assert.deepEqual(lines.slice(1).map((l) => l.replace(/: .*/, '')), [`${HEX(2).slice(0, 12)} users tree`, `${HEX(2).slice(0, 12)} users tree/etc`, `${HEX(2).slice(0, 12)} users tree/etc/passwd`, `${HEX(2).slice(0, 12)} users tree/extra`]);
  assert.match(lines.at(-2) ?? '', /tree\/etc\/passwd: file is missing$/);
  assert.match(lines.at(-1) ?? '', /tree\/extra: unexpected file/);
});

void test('meta.json that does not match its folder, an unreadable one, and a broken chain are corrupt', async () => {
  const s = await store('meta');
  const file = join(s.entryDir(ID(2)), 'meta.json');
  writeFileSync(file, readFileSync(file, 'utf8').replace(HEX(2), HEX(3)));
  let report = await verifyStore(s);
  assert.equal(report.problems[0]?.message, `says id ${ID(3)}, but the entry is stored as ${HEX(2)}`);
  writeFileSync(file, '{"id": ');
  report = await verifyStore(s);
  assert.deepEqual(report.problems.map((p) => `${p.file}: ${p.message}`), ['meta.json: is not valid JSON; the entry cannot be used']);
  rmSync(s.entryDir(ID(2)), { recursive: true });
  rmSync(s.entryDir(ID(1)), { recursive: true });
  const built = join(base, 'meta-orphan');
  mkdirSync(join(built, 'tree'), { recursive: true });
  await s.commit(built, meta(4, 'files', 1));
  report = await verifyStore(s);
  assert.match(report.problems[0]?.message ?? '', /its input 111111111111 is not in the store: a build would stack this entry on a remade one/);
});

void test('an entry of a kiln that recorded no hashes is unverified, not corrupt', async () => {
  const s = await store('old');
  const file = join(s.entryDir(ID(1)), 'meta.json');
  const old = JSON.parse(readFileSync(file, 'utf8')) as Partial<EntryMeta>;
  delete old.contents;
  writeFileSync(file, JSON.stringify(old));
  rmSync(join(s.entryDir(ID(1)), 'contents.jsonl'));
  const report = await verifyStore(s);
  assert.deepEqual([report.unverified, report.corrupt], [[ID(1)], []]);
});

void test('--repair moves a corrupt entry and those built on it to the trash', async () => {
  const s = await store('repair');
  writeFileSync(join(s.treeOf(ID(1)), 'etc/passwd'), 'changed');
  const report = await verifyStore(s);
  assert.deepEqual(report.corrupt, [ID(1)]);
  const done = await repair(s, report);
  assert.deepEqual(done.entries.sort(), [ID(1), ID(2)]);
  assert.deepEqual(readdirSync(s.stages).filter((n) => !n.startsWith('.')), []);
  assert.equal(readdirSync(join(s.stages, '.trash')).length, 2);
  assert.deepEqual((await verifyStore(s)).entries, 0);
});

function deb(path: string): void {
  const member = (name: string, body: string) => Buffer.concat([Buffer.from(`${name.padEnd(16)}${'0'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'100644'.padEnd(8)}${String(body.length).padEnd(10)}\`\n`), Buffer.from(body), Buffer.from(body.length % 2 ? '\n' : '')]);
  writeFileSync(path, Buffer.concat([Buffer.from('!<arch>\n'), member('debian-binary', '2.0\n'), member('control.tar.xz', 'abc'), member('data.tar.xz', 'defgh')]));
}

void test('a cut-off .deb and one whose sha256 differs from what its build recorded are corrupt', async () => {
  const s = new Store(join(base, 'debs'));
  mkdirSync(s.packages, { recursive: true });
  deb(join(s.packages, 'whole_1.0_all.deb'));
  assert.equal(await arMembersFit(join(s.packages, 'whole_1.0_all.deb')), true);
  deb(join(s.packages, 'cut_1.0_all.deb'));
  truncateSync(join(s.packages, 'cut_1.0_all.deb'), 100);
  deb(join(s.packages, 'known_1%3a2.0_amd64.deb'));
  const built = join(base, 'debs-built');
  mkdirSync(join(built, 'tree'), { recursive: true });
  await s.commit(built, meta(1, 'bootstrap', null, { debs: [{ name: 'known', version: '1:2.0', arch: 'amd64', sha256: 'f'.repeat(64) }] }));
  const report = await verifyStore(s);
  assert.deepEqual(report.corruptDebs, ['cut_1.0_all.deb', 'known_1%3a2.0_amd64.deb']);
  assert.match(report.problems[0]?.message ?? '', /^is not a whole \.deb: member 2 header cut off at byte 72$/);
  assert.match(report.problems[1]?.message ?? '', /^sha256 [0-9a-f]{12}… is not the ffffffffffff… a build recorded$/);
  await repair(s, report);
  assert.deepEqual(readdirSync(s.packages), ['whole_1.0_all.deb']);
});
