/**
 * What a user meets when things go wrong, for real: bad input, an unreachable mirror, a package
 * apt cannot find, a failing hook, and Ctrl-C. Each must leave no mounts, no workspace and no
 * half-written output behind.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { kiln, linkedCache, scratch } from './kiln.js';

const cache = linkedCache('fail');
const env = { KILN_CACHE: cache };

function recipe(name: string, text: string, files: Record<string, string> = {}): string {
  const dir = scratch(name);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  writeFileSync(join(dir, 'recipe.yaml'), text);
  return join(dir, 'recipe.yaml');
}

function assertClean(out: string) {
  const mounts = readFileSync('/proc/mounts', 'utf8');
  assert.ok(!mounts.includes(cache), `mounts left behind:\n${mounts}`);
  const builds = join(cache, 'builds');
  assert.deepEqual(existsSync(builds) ? readdirSync(builds) : [], [], 'workspace removed');
  const left = existsSync(out) ? readdirSync(out) : [];
  assert.ok(!left.some((f) => f.endsWith('.raw') || f === 'build.json' || f.startsWith('.kiln-staging')), `outputs left: ${left.join(', ')}`);
}

void test('invalid recipe: exit 2, the message names file:line:col, and nothing is created', async () => {
  const file = recipe('bad', 'name: bad\nhostnme: x\n');
  const out = join(scratch('bad-out'), 'out');
  const result = await kiln(['build', file, '-o', out], env);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /recipe\.yaml:2:1 hostnme: unknown key \(did you mean "hostname"\?\)/);
  assert.equal(existsSync(out), false);
});

void test('bad flags: exit 2', async () => {
  assert.equal((await kiln(['build'], env)).code, 2);
  assert.equal((await kiln(['build', 'examples/minimal.yaml', '--set', 'NOEQUALS'], env)).code, 2);
  assert.equal((await kiln(['frobnicate'], env)).code, 2);
});

void test('unreachable mirror: exit 1 saying so, before any work', async () => {
  const file = recipe('mirror', 'name: mirror\ndistro: { mirror: "http://127.0.0.1:9/debian" }\n');
  const out = join(scratch('mirror-out'), 'out');
  const result = await kiln(['build', file, '-o', out], env);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /mirror http:\/\/127\.0\.0\.1:9\/debian is unreachable/);
  assertClean(out);
});

void test('a package apt cannot find: exit 1 naming the package', async () => {
  const file = recipe('nopkg', 'name: nopkg\npackages: [kiln-no-such-package]\n');
  const out = join(scratch('nopkg-out'), 'out');
  const result = await kiln(['build', file, '-o', out, '--json'], env);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /stage packages failed: package not found in trixie: kiln-no-such-package/);
  assertClean(out);
  assert.ok(existsSync(join(out, 'build-failed.log')), 'the failed build keeps its log');
  // --json: every stdout line is one event; the failure is one of them.
  const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string; stage?: string; message?: string });
  assert.equal(events[0]?.type, 'build-start');
  assert.ok(events.some((e) => e.type === 'output' && e.stage === 'packages'));
  assert.match(events.find((e) => e.type === 'stage-fail')?.message ?? '', /kiln-no-such-package/);
  assert.equal(events.at(-1)?.type, 'build-end');
});

void test('a missing host tool: exit 1 before starting, naming the tool and its package', async () => {
  const out = join(scratch('notools-out'), 'out');
  const result = await kiln(['build', 'examples/minimal.yaml', '-o', out], { ...env, PATH: '/nonexistent' });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /missing host tools: mmdebstrap \(Debian package mmdebstrap\)/);
  assert.match(result.stderr, /kiln doctor --install/);
  assert.equal(existsSync(out), false);
});

void test('Ctrl-C during bootstrap: exit 130, no mounts, no processes, no workspace', async () => {
  // A variant no other test builds: this file's earlier tests (and other files, through the shared
  // store) leave the default base bootstrap stored, and with it the build can end before the signal.
  const file = recipe('interrupt', 'name: interrupt\ndistro: { variant: important }\n');
  const out = join(scratch('interrupt-out'), 'out');
  let pid = 0;
  const running = kiln(['build', file, '-o', out], env, (p) => (pid = p));
  await new Promise((r) => setTimeout(r, 12000));
  assert.doesNotThrow(() => process.kill(pid, 'SIGINT'), 'the build was still running after 12 s');
  const result = await running;
  assert.equal(result.code, 130, result.stderr);
  assertClean(out);
  const procs = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8');
    } catch {
      return '';
    }
  });
  assert.ok(!procs.some((c) => c.includes(cache)), 'no process of the build is left');
});

void test('a failing customize hook: exit 1 naming the stage and command, mounts gone, previous outputs untouched', async () => {
  // No kernel: the hook fails long before one would matter.
  const file = recipe('hookfail', 'name: hookfail\nkernel: { package: none }\nbootloader: none\nhooks:\n  customize: [hooks/fail.sh]\n', {
    'hooks/fail.sh': '#!/bin/sh\necho "about to fail" >&2\ntest -d /proc/1 || exit 9\nexit 3\n',
  });
  const out = join(scratch('hookfail-out'), 'out');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'hookfail.raw'), 'previous good image');
  const result = await kiln(['build', file, '-o', out], env);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /stage customize-hooks failed: \/bin\/sh \/tmp\/kiln-hook \(in the image root\) exited with status 3/);
  assert.match(result.stderr, /about to fail/);
  assert.equal(readFileSync(join(out, 'hookfail.raw'), 'utf8'), 'previous good image');
  assert.ok(!readFileSync('/proc/mounts', 'utf8').includes(cache));
  assert.deepEqual(readdirSync(join(cache, 'builds')), []);
});

void test('an output folder that cannot be written: exit 1 before any work, saying which', async () => {
  const file = join(scratch('notdir'), 'a-file');
  writeFileSync(file, 'not a folder');
  const result = await kiln(['build', 'examples/minimal.yaml', '-o', join(file, 'out')], env);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /cannot write the output folder .*a-file\/out \(ENOTDIR: not a directory/);
  assert.deepEqual(existsSync(join(cache, 'builds')) ? readdirSync(join(cache, 'builds')) : [], []);
});
