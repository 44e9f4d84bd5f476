import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildArgs } from './build-process.js';
import { failureText } from './run-job.js';

void test('the build command line: recipe, output, --json, the arch, and sorted --set pairs', () => {
  assert.deepEqual(buildArgs({ kilnMain: 'main.js', recipeFile: 'b/recipe.yaml', outputDir: 'o', set: { ZED: '1', ALPHA: 'a=b' }, arch: 'arm64', cwd: 'b' }), [
    'main.js', 'build', 'b/recipe.yaml', '-o', 'o', '--json', '--arch', 'arm64', '--set', 'ALPHA=a=b', '--set', 'ZED=1',
  ]);
});

void test("a failure is told in kiln's own words when it printed them, else by the exit status", () => {
  assert.equal(failureText({ code: 1, signal: null, tail: ['noise', 'error: stage packages failed: apt-get exited 100', '  command: apt-get install', '  last output:'] }), 'stage packages failed: apt-get exited 100\n  command: apt-get install\n  last output:');
  assert.equal(failureText({ code: 3, signal: null, tail: ['noise'] }), 'kiln build exited with code 3');
  assert.equal(failureText({ code: null, signal: 'SIGKILL', tail: [] }), 'kiln build was killed by SIGKILL');
});
