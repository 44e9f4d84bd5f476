/**
 * The compiler cannot write options a stage's schema rejects: each `@ts-expect-error` below must
 * stay an error, or `tsc` (npm run typecheck) fails with "Unused '@ts-expect-error' directive".
 * At run time, the same options are checked against the schema, so the two cannot drift apart.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stageByName } from '../stages/registry.js';
import { stageList } from './compile.js';

const BOOTSTRAP = {
  release: 'trixie',
  mirror: 'http://deb.debian.org/debian',
  components: ['main'],
  variant: 'minbase',
  arch: 'amd64',
  packages: [],
  dpkgExclude: [],
  dpkgInclude: [],
  setupHooks: [],
  env: {},
  sourceDateEpoch: null,
  autoInstalled: [],
};

void test('add() takes exactly what the stage schema takes, and tsc rejects the rest', () => {
  const { stages, add } = stageList({ bootstrap: 5, system: 1, kernel: 1 });
  add('bootstrap', BOOTSTRAP);
  add('system', { hostname: 'demo', timezone: 'UTC', locale: 'C.UTF-8' });
  // @ts-expect-error release is a string in the bootstrap stage's schema
  add('bootstrap', { ...BOOTSTRAP, release: 12 });
  // @ts-expect-error a misspelt key: the system stage has `timezone`
  add('system', { hostname: 'demo', timeZone: 'UTC', locale: 'C.UTF-8' });
  // @ts-expect-error a missing option: the kernel stage needs `package`
  add('kernel', {});
  assert.throws(
    // @ts-expect-error no stage has this name
    () => add('bootstrapp', BOOTSTRAP),
    /unknown stage bootstrapp/,
  );

  const valid = stages.map((s) => stageByName(s.stage)?.options.safeParse(s.options).success);
  assert.deepEqual(valid, [true, true, false, false, false]);
});
