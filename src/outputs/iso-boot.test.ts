import assert from 'node:assert/strict';
import { test } from 'node:test';
import { liveCmdline, liveGrubConfig, liveLabel } from './iso-boot.js';

void test('the volume label: KILN_ and the name in ISO 9660 d-characters, at most 32', () => {
  assert.equal(liveLabel('live'), 'KILN_LIVE');
  assert.equal(liveLabel('edge-gw.v2'), 'KILN_EDGE_GW_V2');
  assert.equal(liveLabel('a'.repeat(40)).length, 32);
});

void test("GRUB's menu boots live-boot from the labelled medium with the recipe's consoles, on screen and serial", () => {
  const live = { label: 'KILN_LIVE', title: "o'live", cmdline: ['console=tty0', 'console=ttyS0,115200', 'quiet'] };
  assert.equal(liveCmdline(live), 'boot=live live-media=/dev/disk/by-label/KILN_LIVE console=tty0 console=ttyS0,115200 quiet');
  const menu = liveGrubConfig(live);
  assert.match(menu, /^serial --unit=0 --speed=115200$/m);
  assert.match(menu, /^terminal_output console serial$/m);
  assert.match(menu, /^set timeout=3$/m);
  assert.match(menu, /^menuentry 'olive \(live\)' \{$/m);
  assert.match(menu, /^ {2}linux \/live\/vmlinuz boot=live live-media=\/dev\/disk\/by-label\/KILN_LIVE console=tty0 console=ttyS0,115200 quiet$/m);
  assert.match(menu, /^ {2}initrd \/live\/initrd\.img$/m);
});
