/**
 * The ServiceStore contract as tests, run once per engine (sqlite.test.ts, postgres.test.ts): the
 * same behaviour is asserted of SQLite and PostgreSQL. Each test gets a fresh, empty database.
 * This file holds the records (migrations, tokens, recipes, builds, artifacts); the queue, events
 * and wake-ups are in store-suite-queue.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ServiceStore } from './service-store.js';
import { hash, queued, time, withStores, type SuiteEngine } from './store-suite-kit.js';
import { queueSuite } from './store-suite-queue.js';

export type { SuiteEngine };

export function storeSuite(engine: SuiteEngine): void {
  const it = (name: string, fn: (s: ServiceStore) => Promise<void>): Promise<void> => test(name, () => withStores(engine, 1, fn));

  void describe(`service store on ${engine.name}`, () => {
    void it('migrations apply once and again harmlessly, on this and another store', async (s) => {
      const t = await s.createToken({ name: 'keep', scopes: ['admin'], hash: hash('a') });
      await s.migrate();
      await s.migrate();
      assert.equal((await s.tokenById(t.id))?.name, 'keep');
      assert.equal(s.engine, engine.name);
    });

    void test('stores opening one empty database at the same moment migrate it once', async () => {
      const open = await engine.fresh();
      const stores = await Promise.all([open(), open(), open()]);
      try {
        await stores[0].createToken({ name: 'x', scopes: ['read'], hash: hash('a') });
        assert.equal(await stores[2]?.countTokens(), 1);
      } finally {
        for (const s of stores) await s.close();
      }
    });

    void it('tokens: create, find, list, touch, revoke, count', async (s) => {
      assert.equal(await s.countTokens(), 0);
      const a = await s.createToken({ name: 'admin', scopes: ['admin', 'read'], hash: hash('a') });
      const b = await s.createToken({ name: 'ci', scopes: ['build'], hash: hash('b') });
      assert.match(a.id, /^[0-9a-z]{26}$/);
      assert.deepEqual(await s.tokenById(a.id), a);
      assert.equal(await s.tokenById('nope'), undefined);
      await s.touchToken(b.id, time);
      assert.equal((await s.tokenById(b.id))?.lastUsedAt, time);
      assert.equal(await s.revokeToken(a.id), true);
      assert.equal(await s.revokeToken('nope'), false);
      const list = await s.listTokens();
      assert.deepEqual(list.map((t) => [t.name, t.revoked, t.scopes]), [['admin', true, ['admin', 'read']], ['ci', false, ['build']]]);
      assert.equal(await s.countTokens(), 2);
    });

    void it('recipe versions: numbered per name, identical content is the same version', async (s) => {
      const v = (name: string, h: string) => s.addRecipeVersion({ name, hash: hash(h), file: 'recipe.yaml', files: 3, size: 5_000_000_000 });
      const one = await v('web', 'a');
      assert.deepEqual([one.version.version, one.created, one.version.size], [1, true, 5_000_000_000]);
      assert.deepEqual([(await v('web', 'a')).version.version, (await v('web', 'a')).created], [1, false]);
      assert.deepEqual([(await v('web', 'b')).version.version, (await v('web', 'c')).version.version], [2, 3]);
      assert.deepEqual([(await v('web', 'a')).version.version, (await v('db', 'a')).version.version], [1, 1]);
      assert.deepEqual((await s.recipeVersions('web')).map((x) => x.hash[0]), ['a', 'b', 'c']);
      assert.equal((await s.recipeVersion('web'))?.version, 3);
      assert.equal((await s.recipeVersion('web', 2))?.hash, hash('b'));
      assert.equal(await s.recipeVersion('web', 9), undefined);
      assert.equal(await s.recipeVersion('none'), undefined);
      assert.deepEqual((await s.listRecipes()).map((r) => [r.name, r.latest, r.versions]), [['db', 1, 1], ['web', 3, 3]]);
    });

    void it('builds: list newest first, filter by state and recipe, page with a cursor, count by state', async (s) => {
      const a = await queued(s, 4, 'amd64', 'a');
      const b = await queued(s, 3, 'amd64', 'b');
      await s.requestCancel(a[1] ?? '');
      const all = [...a, ...b].reverse();
      const page1 = await s.listBuilds({ limit: 3 });
      assert.deepEqual(page1.map((x) => x.id), all.slice(0, 3));
      const page2 = await s.listBuilds({ limit: 3, before: page1.at(-1)?.id });
      assert.deepEqual(page2.map((x) => x.id), all.slice(3, 6));
      const page3 = await s.listBuilds({ limit: 3, before: page2.at(-1)?.id });
      assert.deepEqual(page3.map((x) => x.id), all.slice(6));
      assert.deepEqual((await s.listBuilds({ limit: 50, recipe: 'a' })).map((x) => x.id), [...a].reverse());
      assert.deepEqual((await s.listBuilds({ limit: 50, state: 'canceled' })).map((x) => x.id), [a[1]]);
      assert.deepEqual((await s.listBuilds({ limit: 50, state: 'queued', recipe: 'a' })).map((x) => x.id), [a[3], a[2], a[0]]);
      assert.deepEqual(await s.countBuildsByState(), { queued: 6, running: 0, succeeded: 0, failed: 0, canceled: 1 });
      const one = await s.getBuild(b[0] ?? '');
      assert.deepEqual(one && { ...one, createdAt: 'x' }, { id: b[0], recipe: 'b', version: 1, arch: 'amd64', set: { I: '0' }, state: 'queued', createdAt: 'x', attempt: 0, stages: [] });
      assert.equal(await s.getBuild('nope'), undefined);
      const retry = await s.createBuild({ recipe: 'b', version: 1, arch: 'amd64', set: {}, retryOf: b[0] });
      assert.equal(retry.retryOf, b[0]);
    });

    void it('artifacts: listed by name, replaced by a second upload of the same name', async (s) => {
      const [id] = await queued(s, 1);
      await s.addArtifact({ buildId: id ?? '', name: 'img.raw', size: 6_000_000_000, sha256: hash('a'), path: `${id}/img.raw`, createdAt: time });
      await s.addArtifact({ buildId: id ?? '', name: 'build.json', size: 10, sha256: hash('b'), path: `${id}/build.json`, createdAt: time });
      await s.addArtifact({ buildId: id ?? '', name: 'build.json', size: 12, sha256: hash('c'), path: `${id}/build.json`, createdAt: time });
      assert.deepEqual(await s.artifacts(id ?? ''), [
        { buildId: id, name: 'build.json', size: 12, sha256: hash('c'), path: `${id}/build.json`, createdAt: time },
        { buildId: id, name: 'img.raw', size: 6_000_000_000, sha256: hash('a'), path: `${id}/img.raw`, createdAt: time },
      ]);
      assert.deepEqual(await s.artifacts('nope'), []);
    });

    queueSuite(engine, it);
  });
}
