/** Moving a service's state from SQLite to PostgreSQL, and back: every row arrives unchanged. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, type TestPostgres } from '../../testing/postgres.js';
import { openServiceStore } from './open.js';
import { hash, log, queued, time, worker } from './store-suite-kit.js';
import type { ServiceStore } from './service-store.js';

let pg: TestPostgres;
const dir = mkdtempSync(join(tmpdir(), 'kiln-copy-'));
before(async () => {
  pg = await startPostgres();
});
after(async () => {
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** What a user sees of a store: tokens, recipes, builds with their events and artifacts, workers. */
async function snapshot(s: ServiceStore) {
  const builds = await s.listBuilds({ limit: 200 });
  return {
    tokens: await s.listTokens(),
    recipes: await s.listRecipes(),
    versions: await s.recipeVersions('r'),
    builds,
    events: await Promise.all(builds.map((b) => s.events(b.id, 0, 1000))),
    artifacts: await Promise.all(builds.map((b) => s.artifacts(b.id))),
    workers: (await s.listWorkers()).map((w) => ({ ...w })),
  };
}

void test('copyTo moves every row from SQLite to PostgreSQL and back, and refuses a target that has rows', async () => {
  const sqlite = await openServiceStore({ sqliteFile: join(dir, 'a.db') });
  const postgres = await openServiceStore(await pg.createDatabase('copy'));
  const back = await openServiceStore({ sqliteFile: join(dir, 'b.db') });
  try {
    await sqlite.createToken({ name: 'admin', scopes: ['admin'], hash: hash('a') });
    await sqlite.addRecipeVersion({ name: 'r', hash: hash('b'), file: 'recipe.yaml', files: 3, size: 6_000_000_000 });
    const [first] = await queued(sqlite, 3);
    const w = await worker(sqlite);
    const claimed = await sqlite.claim(w.id, ['amd64'], hash('c'));
    assert.ok(claimed && first);
    await sqlite.appendWorkerEvents(claimed.lease.id, [log(1, 'one'), log(2, 'two')]);
    await sqlite.addArtifact({ buildId: claimed.build.id, name: 'x.tar', size: 10, sha256: hash('d'), path: 'x', createdAt: time });

    const lines: string[] = [];
    const counts = await sqlite.copyTo(postgres, (l) => lines.push(l));
    assert.equal(counts.builds, 3);
    assert.equal(counts.leases, 1);
    assert.ok(lines.some((l) => l.startsWith('events: ')));
    assert.deepEqual(await snapshot(postgres), await snapshot(sqlite));
    // The copy keeps working as a queue: the next claim takes the next build.
    const next = await postgres.claim(w.id, ['amd64'], hash('e'));
    assert.ok(next && next.build.id !== claimed.build.id);

    await sqlite.copyTo(back, () => undefined);
    assert.deepEqual(await snapshot(back), await snapshot(sqlite));
    await assert.rejects(sqlite.copyTo(postgres, () => undefined), /already has rows in tokens: copy into a new, empty database/);
  } finally {
    await sqlite.close();
    await postgres.close();
    await back.close();
  }
});
