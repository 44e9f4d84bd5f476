/** The store contract on SQLite (a new file per test), and what only SQLite has: several processes on one file. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { execa } from 'execa';
import { UserError } from '../../errors.js';
import { MIGRATIONS } from './migrations/index.js';
import { openServiceStore } from './open.js';
import { storeSuite } from './store-suite.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-store-'));
let n = 0;
after(() => rmSync(dir, { recursive: true, force: true }));

storeSuite({
  name: 'sqlite',
  fresh() {
    const file = join(dir, `t${++n}`, 'kiln.db');
    return Promise.resolve(() => openServiceStore({ sqliteFile: file }));
  },
});

void test('three processes claiming from one SQLite file take each of 60 builds exactly once', async () => {
  const file = join(dir, 'shared', 'kiln.db');
  const seed = await openServiceStore({ sqliteFile: file });
  const ids: string[] = [];
  for (let i = 0; i < 60; i++) ids.push((await seed.createBuild({ recipe: 'r', version: 1, arch: 'amd64', set: {} })).id);
  await seed.close();
  const open = new URL('./open.js', import.meta.url).href;
  const claimer = `
    const { openServiceStore } = await import(${JSON.stringify(open)});
    const s = await openServiceStore({ sqliteFile: ${JSON.stringify(file)} });
    const w = await s.registerWorker({ name: 'p' + process.pid, arches: ['amd64'], concurrency: 1, version: 't' });
    const mine = [];
    for (let job = await s.claim(w.id, ['amd64'], 'h'); job; job = await s.claim(w.id, ['amd64'], 'h')) {
      mine.push(job.build.id);
      await s.finishLease(job.lease.id, { ok: true });
    }
    await s.close();
    process.stdout.write(JSON.stringify(mine));`;
  const runs = await Promise.all([1, 2, 3].map(() => execa(process.execPath, ['--input-type=module', '-e', claimer])));
  const claimed = runs.map((r) => JSON.parse(r.stdout) as string[]);
  assert.deepEqual(claimed.flat().sort(), [...ids].sort());
});

void test('a database migrated by a newer kiln is refused, naming both versions', async () => {
  const file = join(dir, 'newer', 'kiln.db');
  await (await openServiceStore({ sqliteFile: file })).close();
  const raw = new Database(file);
  raw.prepare(`INSERT INTO kiln_migrations (version, name, applied_at) VALUES (99, 'future', 'x')`).run();
  raw.close();
  await assert.rejects(openServiceStore({ sqliteFile: file }), (err: Error) => {
    assert.ok(err instanceof UserError);
    assert.equal(err.message, `the database's schema is version 99, newer than this kiln's (${MIGRATIONS.length}): upgrade kiln`);
    return true;
  });
});

void test('a database that is neither PostgreSQL nor SQLite, or cannot be reached, is a UserError without its password', async () => {
  await assert.rejects(openServiceStore('mysql://x/y'), { name: 'UserError', message: 'database "mysql://x/y" is neither postgres://USER@HOST:PORT/NAME nor sqlite:FILE' });
  await assert.rejects(openServiceStore('postgres://kiln:secret@127.0.0.1:1/kiln'), (err: Error) => {
    assert.ok(err instanceof UserError);
    assert.match(err.message, /^cannot open the database postgres:\/\/kiln:\*\*\*@127\.0\.0\.1:1\/kiln: /);
    assert.doesNotMatch(err.message, /secret/);
    return true;
  });
  const viaUrl = await openServiceStore(`sqlite:${join(dir, 'url', 'kiln.db')}`);
  assert.equal(viaUrl.engine, 'sqlite');
  await viaUrl.close();
});
