/** The HTTP service against SQLite: a database file in each test's own data folder. */
import { openServiceStore } from './db/index.js';
import { authSuite } from './suites/auth-suite.js';
import { buildSuite } from './suites/builds-suite.js';
import { jobSuite } from './suites/jobs-suite.js';
import { recipeSuite } from './suites/recipes-suite.js';
import type { OpenStore } from './test-support/harness.js';

const open = (): OpenStore => (dataDir) => openServiceStore({ sqliteFile: `${dataDir}/kiln.db` });

authSuite('sqlite', open);
recipeSuite('sqlite', open);
buildSuite('sqlite', open);
jobSuite('sqlite', open);
