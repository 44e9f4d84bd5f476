/** The HTTP service against PostgreSQL: one cluster of the test's own, a new database per test. */
import { after, before } from 'node:test';
import { startPostgres, type TestPostgres } from '../testing/postgres.js';
import { openServiceStore } from './db/index.js';
import { authSuite } from './suites/auth-suite.js';
import { buildSuite } from './suites/builds-suite.js';
import { jobSuite } from './suites/jobs-suite.js';
import { recipeSuite } from './suites/recipes-suite.js';
import type { OpenStore } from './test-support/harness.js';

let pg: TestPostgres;
let n = 0;
before(async () => {
  pg = await startPostgres();
});
after(() => pg.stop());

const open = (): OpenStore => async () => openServiceStore(await pg.createDatabase(`http${++n}`), { poolSize: 4 });

authSuite('postgres', open);
recipeSuite('postgres', open);
buildSuite('postgres', open);
jobSuite('postgres', open);
