/** The store contract on PostgreSQL: one cluster of the test's own, a new database per test. */
import { after, before } from 'node:test';
import { startPostgres, type TestPostgres } from '../../testing/postgres.js';
import { openServiceStore } from './open.js';
import { storeSuite } from './store-suite.js';

let pg: TestPostgres;
let n = 0;
before(async () => {
  pg = await startPostgres();
});
after(() => pg.stop());

storeSuite({
  name: 'postgres',
  async fresh() {
    const url = await pg.createDatabase(`t${++n}`);
    return () => openServiceStore(url, { poolSize: 4 });
  },
});
