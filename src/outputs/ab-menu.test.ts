import assert from 'node:assert/strict';
import { test } from 'node:test';
import { grubPass } from '../testing/grub-env-model.js';
import { abMenu, abSlotScript, grubEnvBlock } from './ab-menu.js';

const boot = (block: Record<string, string>) => grubPass(abSlotScript('$prefix/grubenv'), block);

void test('A/B menu: the good slot boots; a trial of N boots counts down, then GRUB marks it failed and boots the good slot', () => {
  assert.equal(boot({}).vars.slot, 'a', 'a new disk boots slot A');
  assert.equal(boot({ kiln_slot: 'b' }).vars.slot, 'b');
  let block: Record<string, string> = { kiln_slot: 'a', kiln_try: 'b', boot_counter: '3' };
  for (const left of ['2', '1', '0']) {
    const pass = boot(block);
    assert.equal(pass.vars.slot, 'b', `a try of slot B (${left} left after it)`);
    assert.equal(pass.block.boot_counter, left);
    block = pass.block;
  }
  const spent = boot(block);
  assert.equal(spent.vars.slot, 'a', 'the tries are spent: the good slot');
  assert.deepEqual(spent.block, { kiln_slot: 'a', kiln_try: '', boot_counter: '', kiln_failed: 'b' });
  // From then on the good slot boots, and the block stays as it is.
  assert.equal(boot(spent.block).vars.slot, 'a');
  assert.deepEqual(boot(spent.block).block, spent.block);
});

void test('A/B menu: a trial of slot A from slot B, of the most tries health.boot_tries allows', () => {
  let block: Record<string, string> = { kiln_slot: 'b', kiln_try: 'a', boot_counter: '9' };
  for (let i = 0; i < 9; i++) {
    const pass = boot(block);
    assert.equal(pass.vars.slot, 'a');
    block = pass.block;
  }
  assert.equal(boot(block).vars.slot, 'b');
  assert.equal(boot(block).block.kiln_failed, 'a');
});

void test('A/B menu: the entry boots the chosen slot by its names, with the recipe\'s arguments; the serial console when asked', () => {
  const menu = abMenu({ title: "it's", serial: true, cmdline: ['rw', 'console=ttyS0,115200'] });
  assert.match(menu, /^export slot$/m);
  assert.match(menu, /^search --no-floppy --label --set=root system_\$\{slot\}$/m);
  assert.match(menu, /^ {2}linux \/boot\/vmlinuz root=PARTLABEL=system_\$\{slot\} kiln\.slot=\$\{slot\} rw console=ttyS0,115200$/m);
  assert.match(menu, /^menuentry 'its \(slot \$\{slot\}\)' \{$/m);
  assert.match(menu, /^terminal_output serial console$/m);
  assert.doesNotMatch(abMenu({ title: 'x', serial: false, cmdline: [] }), /serial/);
});

void test('a GRUB environment block: 1024 bytes, padded with "#"', () => {
  const block = grubEnvBlock({ kiln_slot: 'a' });
  assert.equal(block.length, 1024);
  assert.ok(block.startsWith('# GRUB Environment Block\nkiln_slot=a\n###'));
  assert.throws(() => grubEnvBlock({ x: 'y'.repeat(1100) }), /1024 bytes/);
});
