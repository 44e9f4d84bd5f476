/**
 * The health layer's GRUB half (/etc/grub.d/08_kiln_health): the menu snippet it writes, run through
 * a small model of the GRUB script commands it uses, and when it starts a trial.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { grubPass } from '../testing/grub-env-model.js';

const LAYER = fileURLToPath(new URL('../../../layers/health/overlay', import.meta.url));
const GENERATOR = join(LAYER, 'etc/grub.d/08_kiln_health');

/** Runs the generator as grub-mkconfig would, with grub-mkrelpath and grub-editenv stubbed. */
function generate(bootVersion?: string, entries = 0) {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-health-grub-'));
  try {
    const bin = join(dir, 'bin');
    const boot = join(dir, 'boot');
    mkdirSync(bin);
    mkdirSync(join(boot, `loader.${bootVersion ?? 0}/entries`), { recursive: true });
    for (let i = 0; i < entries; i++) writeFileSync(join(boot, `loader.${bootVersion ?? 0}/entries/ostree-${i}.conf`), '');
    writeFileSync(join(bin, 'grub-mkrelpath'), '#!/bin/sh\necho /boot/grub/grubenv\n');
    writeFileSync(join(bin, 'grub-editenv'), `#!/bin/sh\necho "$*" >> '${dir}/editenv'\n`);
    for (const f of ['grub-mkrelpath', 'grub-editenv']) chmodSync(join(bin, f), 0o755);
    const env = { PATH: `${bin}:${process.env.PATH ?? ''}`, KILN_HEALTH_BOOT: boot, ...(bootVersion === undefined ? {} : { _OSTREE_GRUB2_BOOTVERSION: bootVersion }) };
    const run = spawnSync('sh', [GENERATOR], { encoding: 'utf8', env });
    assert.equal(run.status, 0, run.stderr);
    let editenv = '';
    try {
      editenv = readFileSync(join(dir, 'editenv'), 'utf8');
    } catch {
      // grub-editenv was not called.
    }
    return { menu: run.stdout, editenv: editenv.replaceAll(boot, '<boot>') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One boot's pass through the menu (the model in src/testing/grub-env-model.ts). */
const boot = grubPass;

void test('08_kiln_health: a trial of three boots counts down in grubenv, then GRUB boots entry 1', () => {
  const { menu } = generate();
  assert.match(menu, /^# kiln health: a new deployment gets 3 boot\(s\), then the previous one \(entry 1\) boots$/m);
  let block: Record<string, string> = { boot_counter: '3', boot_success: '0' };
  const defaults: (string | undefined)[] = [];
  const counters: (string | undefined)[] = [];
  for (let i = 0; i < 5; i++) {
    const after = boot(menu, block);
    block = after.block;
    defaults.push(after.vars.default);
    counters.push(block.boot_counter);
  }
  assert.deepEqual(counters, ['2', '1', '0', '0', '0']);
  assert.deepEqual(defaults, [undefined, undefined, undefined, '1', '1']);
  // A passed trial (boot_success=1) and no trial at all leave the menu's default alone.
  for (const idle of [{ boot_success: '1' }, {}] as Record<string, string>[]) {
    const after = boot(menu, idle);
    assert.equal(after.vars.default, undefined);
    assert.deepEqual(after.block, idle);
  }
});

void test('08_kiln_health: only a menu OSTree writes with two or more deployments starts a trial', () => {
  assert.equal(generate().editenv, '', 'grub-mkconfig run by hand');
  assert.equal(generate('1', 1).editenv, '', 'one deployment: nothing to fall back to');
  assert.equal(generate('1', 2).editenv, '<boot>/grub/grubenv set boot_counter=3 boot_success=0\n');
});

void test('kiln-health and its GRUB generator are valid POSIX shell', () => {
  for (const script of [GENERATOR, join(LAYER, 'usr/sbin/kiln-health'), join(LAYER, 'etc/kiln-health/required.d/10-no-failed-units')]) {
    const check = spawnSync('sh', ['-n', script], { encoding: 'utf8' });
    assert.equal(check.status, 0, `${script}: ${check.stderr}`);
  }
});
