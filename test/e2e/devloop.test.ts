/**
 * The developer's loop on one small image configured by an Ansible playbook (a role installs a
 * package, templates a file with a variable and enables a service): one build, then kiln shell
 * (status, --writable, --bind, errors), kiln run --check, kiln apply to a running container, one QEMU boot checked from a logged-in
 * shell, a rebuild after one template changed (only the ansible stage and later ones rerun), a
 * failing task, and kiln cache clean. The tests run in order and build on each other.
 * arm64 is not built here: a foreign build costs many minutes under qemu-user (README: "Developer loop").
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, lstatSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { Console, withConsole } from './console.js';
import { buildRecord, kiln, REPO, scratch, sharedCache, type Run } from './kiln.js';
import { stageByName } from '../../src/stages/registry.js';

const env = { KILN_CACHE: sharedCache('devloop') };
const dir = scratch('devloop');
cpSync(join(REPO, 'test/e2e/fixtures/devloop'), dir, { recursive: true });
const recipe = join(dir, 'recipe.yaml');
const out = join(dir, 'out');
const template = join(dir, 'ansible/roles/demo/templates/kiln-demo.conf.j2');

/** Whether the first build made its stages (rather than finding them in a store kept from an earlier run). */
let firstBuildRan = true;

const ok = (run: Run, what: string) => assert.equal(run.code, 0, `${what} failed (${run.code}):\n${run.stderr.slice(-3000)}`);

/** The tree layers of a build, hashed by path, type, mode, size, time and content: what "untouched" means. */
function storeHash(): string {
  const hash = createHash('sha256');
  const stages = join(env.KILN_CACHE, 'stages');
  const walk = (path: string) => {
    const s = lstatSync(path);
    hash.update(`${path} ${s.mode} ${s.size} ${s.mtimeMs}\n`);
    if (s.isSymbolicLink()) hash.update(readlinkSync(path));
    else if (s.isDirectory()) for (const name of readdirSync(path).sort()) walk(join(path, name));
    else if (s.isFile() && s.size < 1 << 20) hash.update(readFileSync(path));
  };
  // Image stages keep only the last one's result in the store: the tree layers are what kiln shell uses.
  for (const stage of buildRecord(out).stages.filter((s) => stageByName(s.name)?.kind === 'tree')) walk(join(stages, stage.id.replace(/^sha256:/, '')));
  return hash.digest('hex');
}

void test('devloop: an image configured by an Ansible role builds, task names in its log', async () => {
  ok(await kiln(['build', recipe, '-o', out], env), 'build');
  const record = buildRecord(out);
  const names = record.stages.map((s) => s.name);
  assert.ok(names.indexOf('services') < names.indexOf('ansible') && names.indexOf('ansible') < names.indexOf('customize-hooks'), names.join(' '));
  // A store that already holds this image (KILN_E2E_CACHE kept from a run before) runs no task.
  firstBuildRan = !record.stages.find((s) => s.name === 'ansible')?.cached;
  if (!firstBuildRan) return;
  const log = readFileSync(join(out, 'build.log'), 'utf8');
  assert.match(log, /\[ansible\] TASK \[demo : install a package\]/);
  assert.match(log, /\[ansible\] TASK \[demo : enable the service\]/);
});

void test('devloop: kiln shell runs a command in the stored tree and exits with its status', async () => {
  const t = Date.now();
  const run = await kiln(['shell', recipe, '--', 'sh', '-c', 'cat /etc/kiln-demo.conf; hello; exit 3'], env);
  const seconds = (Date.now() - t) / 1000;
  assert.equal(run.code, 3, run.stderr);
  assert.match(run.stdout, /^greeting=hello from ansible\narch=x86_64\nHello, world!\n$/);
  process.stderr.write(`kiln shell to the command's end: ${seconds.toFixed(2)} s\n`);
  const fromDir = await kiln(['shell', out, '--', 'systemctl', 'is-enabled', 'kiln-demo.service'], env);
  ok(fromDir, 'shell BUILD_DIR');
  assert.equal(fromDir.stdout, 'enabled\n');
  const readOnly = await kiln(['shell', out, '--', 'touch', '/etc/x'], env);
  assert.equal(readOnly.code, 1);
  assert.match(readOnly.stderr, /Read-only file system/);
});

void test('devloop: kiln shell --writable and --bind leave the store untouched', async () => {
  const before = storeHash();
  const src = scratch('devloop-src');
  writeFileSync(join(src, 'main.c'), 'int main(void) { return 0; }\n');
  const run = await kiln(['shell', out, '--writable', '--bind', `${src}:/src`, '--', 'sh', '-c', 'echo changed > /etc/kiln-demo.conf && rm /usr/bin/hello && cat /src/main.c'], env);
  ok(run, 'shell --writable');
  assert.equal(run.stdout, 'int main(void) { return 0; }\n');
  const again = await kiln(['shell', out, '--', 'sh', '-c', 'cat /etc/kiln-demo.conf; test -x /usr/bin/hello'], env);
  ok(again, 'shell after --writable');
  assert.match(again.stdout, /^greeting=hello from ansible/);
  assert.equal(storeHash(), before);
});

void test('devloop: kiln shell refuses what it cannot do, with exit 2', async () => {
  const never = join(scratch('devloop-never'), 'never.yaml');
  writeFileSync(never, 'name: never-built\nkernel: { package: none }\nbootloader: none\noutputs: [tar]\n');
  const unbuilt = await kiln(['shell', never, '--', 'true'], env);
  assert.equal(unbuilt.code, 2);
  assert.match(unbuilt.stderr, /never.yaml: this recipe's image root is not in the stage store .* build it first with: kiln build .*never\.yaml/);
  const bind = await kiln(['shell', out, '--bind', '/no/such/folder:/src', '--', 'true'], env);
  assert.equal(bind.code, 2);
  assert.match(bind.stderr, /--bind \/no\/such\/folder:\/src: \/no\/such\/folder does not exist on this machine/);
});

void test('devloop: kiln run --check boots the tree to multi-user in a container', async () => {
  const run = await kiln(['run', out, '--check', '--timeout', '120'], env);
  ok(run, 'run --check');
  // Nothing failed: not even systemd-remount-fs, which the disk's fstab (kiln run leaves it out) would fail.
  assert.match(run.stdout, /container check passed: multi-user after [\d.]+ s\n/);
  process.stderr.write(`kiln run --check: ${run.stdout}`);
});

void test('devloop: kiln apply applies the playbook, with a changed variable, to a running kiln run container', async () => {
  const none = await kiln(['apply', recipe], env);
  assert.equal(none.code, 2, none.stderr);
  assert.match(none.stderr, /no kiln run container of devloop is running; start one first \(in another terminal\) with: kiln run /);

  const before = storeHash();
  let runPid = 0;
  const container = kiln(['run', out], env, (pid) => (runPid = pid));
  try {
    // kiln apply names a missing container (exit 2) until nspawn has started the image's init.
    let applied = none;
    for (const t0 = Date.now(); applied.code === 2 && Date.now() - t0 < 60_000; ) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      applied = await kiln(['apply', recipe, '--set', 'GREETING=applied live'], env);
    }
    ok(applied, 'apply');
    assert.match(applied.stdout, /TASK \[demo : template a file with a variable\][ *]*\nchanged: \[devloop\]/);
    const init = /applied to the running container of devloop \(init process (\d+)\)/.exec(applied.stdout)?.[1];
    assert.ok(init, applied.stdout.slice(-2000));
    assert.equal(readFileSync(`/proc/${init}/root/etc/kiln-demo.conf`, 'utf8'), 'greeting=applied live\narch=x86_64\n');
  } finally {
    process.kill(runPid, 'SIGTERM');
    await container;
  }
  assert.equal(storeHash(), before, 'the stored tree is untouched: the container wrote to its tmpfs');
  const cmdline = (pid: string) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      return ''; // gone while we looked
    }
  };
  const left = readdirSync('/proc').filter((pid) => /^\d+$/.test(pid) && cmdline(pid).includes('--machine=devloop'));
  assert.deepEqual(left, [], 'the container is gone with kiln run');
});

void test('devloop: the image boots in QEMU with the role applied', async () => {
  await withConsole(() => Console.start(join(out, 'devloop.raw')), async (vm) => {
    await vm.login('root', 'root');
    process.stderr.write(`QEMU login prompt after ${vm.seconds} s\n`);
    assert.deepEqual(await vm.run('cat /run/kiln-demo'), { out: 'greeting=hello from ansible\narch=x86_64', status: 0 });
    assert.deepEqual(await vm.run('systemctl is-active kiln-demo.service'), { out: 'active', status: 0 });
    assert.deepEqual(await vm.run('hello'), { out: 'Hello, world!', status: 0 });
  });
});

void test('devloop: a changed template reruns the ansible stage and the later ones only', async () => {
  const first = buildRecord(out);
  // Unique to this run, so even a store kept from an earlier run has never seen this template.
  writeFileSync(template, `${readFileSync(template, 'utf8')}changed=${basename(dir)}\n`);
  const out2 = join(dir, 'out2');
  ok(await kiln(['build', recipe, '-o', out2], env), 'rebuild');
  const second = buildRecord(out2);
  const at = second.stages.findIndex((s) => s.name === 'ansible');
  assert.deepEqual(second.stages.map((s) => s.cached), second.stages.map((_, i) => i < at));
  assert.deepEqual(second.stages.slice(0, at).map((s) => s.id), first.stages.slice(0, at).map((s) => s.id));
  assert.notEqual(second.stages[at]?.id, first.stages[at]?.id);
  assert.match(readFileSync(join(out2, 'build.log'), 'utf8'), /\[ansible\] TASK \[demo : template a file with a variable\]/);
  const shell = await kiln(['shell', out2, '--', 'cat', '/etc/kiln-demo.conf'], env);
  assert.match(shell.stdout, new RegExp(`changed=${basename(dir)}`));
});

void test('devloop: a failing task fails the build naming the task and the host', async () => {
  const run = await kiln(['build', recipe, '-o', join(dir, 'out-fail'), '--set', 'PLAYBOOK=fail.yml'], env);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /stage ansible failed: task "this task fails on purpose" failed on host devloop: non-zero return code/);
});

void test('devloop: kiln cache clean keeps the last build, or drops a stage and all after it', async () => {
  const keep = await kiln(['cache', 'clean', recipe, '--keep-last', '1'], env);
  ok(keep, 'cache clean --keep-last');
  // The first build's ansible stage and everything on it go; the second build's stay. (Entries
  // count for the recipe file that made them: a kept store's were made by another copy of it.)
  if (firstBuildRan) assert.match(keep.stdout, /removed [0-9a-f]{12} {2}ansible/);
  assert.match(keep.stdout, /freed [\d.]+ \w+ \(\d+ stage entries\)/);
  ok(await kiln(['shell', join(dir, 'out2'), '--', 'true'], env), 'shell on the build kept');
  const from = await kiln(['cache', 'clean', recipe, '--from', 'ansible'], env);
  ok(from, 'cache clean --from');
  assert.match(from.stdout, /removed [0-9a-f]{12} {2}ansible/);
  const gone = await kiln(['shell', recipe, '--', 'true'], env);
  assert.equal(gone.code, 2);
  assert.match(gone.stderr, /build it first with: kiln build/);
});
