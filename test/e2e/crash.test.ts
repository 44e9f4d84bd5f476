/**
 * Survive being killed anywhere: `kiln build` is killed at seeded random moments inside every
 * stage (and while publishing) with SIGKILL, and with SIGTERM and SIGINT (exit 130). After each
 * kill: no mount, process or loop device of the build is left, `kiln cache verify` finds nothing
 * corrupt, no output name holds a half-written file, and the next build succeeds reusing every
 * stage that had finished. To reach a late stage without rebuilding everything, the killed build
 * runs with `--rebuild-from STAGE` (earlier stages come from the store) and is killed a random
 * part of that stage's reference duration after its start event.
 *
 * KILN_CRASH_SEED replays a run (the seed is printed); KILN_CRASH_POINTS sets how many SIGKILL
 * moments (default: one per stage and one while publishing; 20 adds random ones).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { kiln, MAIN, REPO, scratch } from './kiln.js';

const SEED = Number(process.env.KILN_CRASH_SEED ?? 20261202);
const cache = scratch('crash-cache');
const env = { KILN_CACHE: cache };
const dir = scratch('crash-recipe');
const file = join(dir, 'recipe.yaml');
const out = join(dir, 'out');
process.stderr.write(`crash test: seed ${SEED} (KILN_CRASH_SEED=${SEED} replays this run)\n`);

mkdirSync(join(dir, 'overlay/etc'), { recursive: true });
mkdirSync(join(dir, 'hooks'), { recursive: true });
writeFileSync(join(dir, 'overlay/etc/kiln-note'), 'crash\n');
writeFileSync(join(dir, 'hooks/10-mark.sh'), '#!/bin/sh\necho ok > /etc/kiln-hook\n');
// Debian's cloud kernel (105 MB installed, against 400 MB) and the short initramfs: after every
// kill, the check hashes the whole store and the next build copies the image out again.
writeFileSync(
  file,
  `name: crash
root_password: root
users:
  - { name: alice, password: alice }
kernel: { package: linux-image-cloud-amd64, initramfs_modules: [virtio_pci, virtio_blk, ext4] }
files:
  - { src: overlay/, dst: / }
hooks:
  customize: [hooks/10-mark.sh]
outputs: [raw, qcow2]
`,
);

/** mulberry32: small, seedable, the same sequence on every machine. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = random(SEED);

interface Event {
  type: string;
  stage?: string;
  cached?: boolean;
  seconds?: number;
  ok?: boolean;
}

interface Killed {
  code: number | null;
  stderr: string;
  events: Event[];
  /** Where the build was when the signal was sent. */
  at: string;
}

/** Where a kill is aimed: a stage, or `publish` (after the last stage, before build.json). */
interface Moment {
  signal: NodeJS.Signals;
  target: string;
  /** 0..1: how far into the target's reference duration. */
  fraction: number;
  /**
   * The store holds no entry for the target and later stages (a first build killed), so the next
   * build has to make them; otherwise the killed build reruns them with --rebuild-from.
   */
  fresh: boolean;
}

/**
 * Runs `kiln build --json` and sends `signal` `delayMs` after the target's start (a stage's
 * start event, or the outputs stage's end for `publish`).
 */
function buildAndKill(args: string[], target: string, delayMs: number, signal: NodeJS.Signals): Promise<Killed> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, 'build', file, '-o', out, '--json', ...args], { cwd: REPO, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const events: Event[] = [];
    let stderr = '';
    let buffered = '';
    let at = 'not sent';
    let armed = false;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const event = JSON.parse(line) as Event;
        events.push(event);
        const start = target === 'publish' ? event.type === 'stage-end' && event.stage === 'outputs' : event.type === 'stage-start' && event.stage === target;
        if (start && !armed) {
          armed = true;
          setTimeout(() => {
            at = where(events);
            child.kill(signal);
          }, delayMs);
        }
      }
    });
    child.on('close', (code) => resolve({ code, stderr, events, at }));
  });
}

/** The stage running (or `publish`, or `done`) by the events seen so far. */
function where(events: Event[]): string {
  const last = [...events].reverse().find((e) => e.type === 'stage-start' || e.type === 'stage-end' || e.type === 'build-end');
  if (!last) return 'before any stage';
  if (last.type === 'build-end') return 'done';
  if (last.type === 'stage-start') return last.stage ?? '?';
  return last.stage === 'outputs' ? 'publish' : `after ${last.stage ?? '?'}`;
}

function finished(events: Event[]): string[] {
  return events.filter((e) => e.type === 'stage-end').map((e) => e.stage ?? '');
}

function losetup(): string {
  return spawnSync('losetup', ['-a'], { encoding: 'utf8' }).stdout;
}

/** Processes of a build in this cache (by command line or environment). */
function buildProcesses(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.includes(cache) || readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`KILN_CACHE=${cache}`)) found.push(`${pid}: ${cmdline.replace(/\0/g, ' ')}`);
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/**
 * No process of the build is left, so no mount namespace of one is left either. The killed
 * kiln's pipes close before the kernel has reaped the rest of its pid namespace (a `umount` in
 * the middle of its system call takes a moment to die), so this waits up to 10 s for them.
 */
async function assertNoProcesses(): Promise<void> {
  for (let waited = 0; buildProcesses().length && waited < 10000; waited += 100) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(buildProcesses(), [], 'no process of the build is left');
  assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(cache), 'no mount of the build is left');
}

interface Published {
  names: string[];
  /** file → "inode size mtime", to see cheaply whether a kill touched it. */
  stamps: Map<string, string>;
  sums: Map<string, string>;
}

/** What the last good build published (a failed build's log beside it is not an output). */
function published(): Published {
  const names = readdirSync(out).filter((n) => n !== 'build-failed.log').sort();
  const stamps = new Map(names.map((n) => [n, stamp(join(out, n))]));
  const sums = new Map(readFileSync(join(out, 'SHA256SUMS'), 'utf8').trim().split('\n').map((l) => [l.slice(66), l.slice(0, 64)] as [string, string]));
  return { names, stamps, sums };
}

function stamp(path: string): string {
  const s = statSync(path);
  return `${s.ino} ${s.size} ${s.mtimeMs}`;
}

/** Every output name holds either the untouched previous file or a whole new one with the same sum. */
function assertOutputsWhole(before: Published): void {
  const left = readdirSync(out).filter((n) => !n.startsWith('.kiln-staging-') && n !== 'build-failed.log');
  assert.deepEqual(left.sort(), before.names, 'the output folder holds the same names');
  for (const name of left) {
    if (stamp(join(out, name)) === before.stamps.get(name)) continue;
    const sum = before.sums.get(name);
    // A rebuilt image is the same bytes (reproducible); build.json, the log and SBOMs differ by time.
    if (sum && (name.endsWith('.raw') || name.endsWith('.qcow2'))) assert.equal(sha256(join(out, name)), sum, `${name} was replaced by a whole, identical file`);
    if (name.endsWith('.json')) assert.doesNotThrow(() => JSON.parse(readFileSync(join(out, name), 'utf8')), `${name} is whole JSON`);
  }
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

let reference: { stages: string[]; ids: string[]; seconds: Map<string, number> };

void test('reference build: every stage made once, timed', async () => {
  const started = Date.now();
  const result = await buildAndKill([], 'never', 0, 'SIGKILL');
  assert.equal(result.code, 0, result.stderr);
  const ends = result.events.filter((e) => e.type === 'stage-end');
  const seconds = new Map(ends.map((e) => [e.stage ?? '', e.seconds ?? 0]));
  const outputsEnd = result.events.findIndex((e) => e.type === 'stage-end' && e.stage === 'outputs');
  assert.ok(outputsEnd > 0);
  seconds.set('publish', (result.events.find((e) => e.type === 'build-end')?.seconds ?? 0) - ends.reduce((sum, e) => sum + (e.seconds ?? 0), 0));
  const start = result.events.find((e) => e.type === 'build-start') as { stages?: { name: string; id: string }[] } | undefined;
  reference = { stages: ends.map((e) => e.stage ?? ''), ids: (start?.stages ?? []).map((s) => s.id), seconds };
  assert.equal(reference.ids.length, reference.stages.length);
  for (const kind of ['bootstrap', 'packages', 'system', 'users', 'files', 'services', 'customize-hooks', 'fstab', 'kernel', 'initramfs', 'systemd-boot', 'ssh-host-keys', 'partition-table', 'filesystems', 'outputs']) {
    assert.ok(reference.stages.includes(kind), `the recipe has a ${kind} stage`);
  }
  process.stderr.write(`crash test: reference build ${((Date.now() - started) / 1000).toFixed(1)} s: ${[...seconds].map(([s, t]) => `${s} ${t.toFixed(2)}`).join(', ')}\n`);
});

/** The moments: every stage and publishing once with SIGKILL, more at random, then SIGTERM and SIGINT. */
function moments(): Moment[] {
  const targets = [...reference.stages, 'publish'];
  const points = Number(process.env.KILN_CRASH_POINTS ?? targets.length);
  const list: Moment[] = [];
  const pick = (target: string) => ({ target, fraction: rand(), fresh: target !== 'bootstrap' && target !== 'publish' && rand() < 0.25 });
  for (let i = 0; i < points; i++) list.push({ signal: 'SIGKILL', ...pick(targets[i < targets.length ? i : Math.floor(rand() * targets.length)] ?? 'publish') });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) list.push({ signal, ...pick(targets[Math.floor(rand() * targets.length)] ?? 'outputs') });
  return list;
}

/** Removes the stored entries of `target` and every later stage, as if no build had made them yet. */
function forget(target: string): void {
  const from = reference.stages.indexOf(target);
  for (const id of reference.ids.slice(from)) rmSync(join(cache, 'stages', id.replace(/^sha256:/, '')), { recursive: true, force: true });
}

async function crashAt(moment: Moment): Promise<void> {
  const started = Date.now();
  const loops = losetup();
  const before = published();
  const from = moment.target === 'publish' ? 'outputs' : moment.target;
  // Capped: the bootstrap stage is the only long one, and the file must stay within CI's time.
  const duration = Math.min(30, reference.seconds.get(moment.target) ?? 0) * 1000;
  let killed: Killed | undefined;
  // A kill can land just after a short stage ended (30 ms stages): aim earlier and try again.
  for (let fraction = moment.fraction; ; fraction /= 3) {
    const delay = Math.floor(fraction * duration * 0.9);
    if (moment.fresh) forget(moment.target);
    killed = await buildAndKill(moment.fresh ? [] : ['--rebuild-from', from], moment.target, delay, moment.signal);
    const label = `${moment.signal} ${moment.target}${moment.fresh ? ' (not stored yet)' : ''} +${delay} ms`;
    process.stderr.write(`crash test: ${label}: landed in ${killed.at}, exit ${killed.code ?? 'signal'}\n`);
    const ended = moment.target === 'publish' ? killed.events.some((e) => e.type === 'build-end' && e.ok) : finished(killed.events).includes(moment.target);
    // SIGTERM and SIGINT ask the build to stop: it may finish the step it is in (and so the stage)
    // first; one that came so late that nothing was left to stop did not land.
    if (killed.at === moment.target && (moment.signal === 'SIGKILL' ? !ended : killed.code !== 0)) break;
    assert.ok(fraction > 0.001, `${label}: the kill never landed in ${moment.target} (last: ${killed.at})`);
  }
  if (moment.signal !== 'SIGKILL') {
    assert.equal(killed.code, 130, `${moment.signal} makes the build exit 130:\n${killed.stderr}`);
    assert.match(killed.stderr, /interrupted: nothing was written under an output name/);
  }
  await assertNoProcesses();
  assert.equal(losetup(), loops, 'losetup -a is unchanged');
  const killedAt = Date.now();
  const verify = await kiln(['cache', 'verify'], env);
  const verified = Date.now();
  assert.equal(verify.code, 0, `kiln cache verify after ${moment.signal} in ${moment.target}:\n${verify.stdout}${verify.stderr}`);
  assert.match(verify.stdout, /\d+ entries, 0 corrupt/);
  assertOutputsWhole(before);

  const done = finished(killed.events);
  const next = await buildAndKill([], 'never', 0, 'SIGKILL');
  assert.equal(next.code, 0, next.stderr);
  const record = JSON.parse(readFileSync(join(out, 'build.json'), 'utf8')) as { stages: { name: string; cached: boolean }[] };
  for (const stage of done) assert.ok(record.stages.find((s) => s.name === stage)?.cached, `${stage} had finished before the kill, so the next build reuses it`);
  // SIGTERM and SIGINT may let a short stage finish (and be stored) before the build stops.
  if (moment.fresh && !done.includes(moment.target)) assert.equal(record.stages.find((s) => s.name === moment.target)?.cached, false, `the next build makes ${moment.target}, which the killed build never stored`);
  assert.deepEqual(readdirSync(join(cache, 'builds')), [], "the killed build's workspace is gone");
  assert.deepEqual(readdirSync(out).filter((n) => n.startsWith('.kiln-staging-')), [], 'no staging folder is left');
  const s = (from: number, to: number) => `${((to - from) / 1000).toFixed(1)} s`;
  process.stderr.write(`crash test: killed build(s) ${s(started, killedAt)}, verify ${s(killedAt, verified)}, next build ${s(verified, Date.now())}\n`);
}

void test('killed at random moments in every stage: nothing left, nothing corrupt, the next build resumes', async (t) => {
  assert.ok(reference, 'the reference build ran');
  for (const moment of moments()) {
    await t.test(`${moment.signal} in ${moment.target} at ${(moment.fraction * 100).toFixed(0)}%`, () => crashAt(moment));
  }
});

void test('kiln cache verify names a damaged entry; --repair moves it away and the next build remakes it', async () => {
  const stages = join(cache, 'stages');
  const users = readdirSync(stages).find((n) => existsSync(join(stages, n, 'meta.json')) && (JSON.parse(readFileSync(join(stages, n, 'meta.json'), 'utf8')) as { stage: string }).stage === 'users');
  assert.ok(users, 'the users stage is stored');
  writeFileSync(join(stages, users, 'tree/etc/kiln-intruder'), 'x');
  const found = await kiln(['cache', 'verify'], env);
  assert.equal(found.code, 1, found.stdout);
  assert.match(found.stdout, new RegExp(`corrupt entry ${users.slice(0, 12)} \\(users\\): tree/etc/kiln-intruder: unexpected file`));
  assert.match(found.stdout, /entries, 1 corrupt/);
  const repaired = await kiln(['cache', 'verify', '--repair'], env);
  assert.match(repaired.stdout, /repaired: moved \d+ entries/);
  assert.equal((await kiln(['cache', 'verify'], env)).code, 0);
  const next = await buildAndKill([], 'never', 0, 'SIGKILL');
  assert.equal(next.code, 0, next.stderr);
  const record = JSON.parse(readFileSync(join(out, 'build.json'), 'utf8')) as { stages: { name: string; cached: boolean }[] };
  assert.deepEqual(record.stages.filter((s) => !s.cached).map((s) => s.name), reference.stages.slice(reference.stages.indexOf('users')));
});
